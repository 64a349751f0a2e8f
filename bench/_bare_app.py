"""The yardstick of bench/request_path.py: a bare FastAPI app, one GET returning a dict, served by
the same uvicorn with the same settings as the API. What the framework alone costs."""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI()


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}
