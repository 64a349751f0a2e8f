"""What a workflow's outbox reports about its messages (see `workflows.outbox`)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel


class PostedMessage(BaseModel):
    """One message a workflow handed to its outbox: for queries and the support console."""

    step: str
    activity: str
    status: Literal["sending", "sent", "failed"] = "sending"
    posted_at: datetime
    finished_at: datetime | None = None
    error: str | None = None
