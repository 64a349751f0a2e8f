"""Quizzes: questions with their answer key, what a client may see of them, and grading.

A question is single choice (exactly one right option), multiple choice (one or more; scored
all-or-nothing: the chosen set must equal the right set) or true/false (options `true` and
`false`). The answer key (`correct`, `explanation`) never leaves the server before the client
has submitted: `public_quiz` is the only view a client gets of an unanswered quiz.
"""

from __future__ import annotations

import enum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

OptionId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_-]{1,20}$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]


class QuestionKind(enum.StrEnum):
    SINGLE = "single"
    MULTIPLE = "multiple"
    TRUE_FALSE = "true_false"


class QuizOption(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: OptionId
    text: Text


TRUE_FALSE_OPTIONS = [QuizOption(id="true", text="True"), QuizOption(id="false", text="False")]


class QuizQuestion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: OptionId
    kind: QuestionKind
    prompt: Text
    options: list[QuizOption] = Field(default_factory=list, max_length=10,
                                      description="true/false questions get `true` and `false` by themselves")
    correct: list[OptionId] = Field(min_length=1, max_length=10, description="the right option ids")
    points: int = Field(1, ge=1, le=100)
    explanation: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> QuizQuestion:
        if self.kind == QuestionKind.TRUE_FALSE:
            self.options = list(TRUE_FALSE_OPTIONS)
        ids = [option.id for option in self.options]
        if len(ids) < 2:
            raise ValueError(f"question {self.id}: give at least two options")
        if len(set(ids)) != len(ids):
            raise ValueError(f"question {self.id}: option ids must differ")
        if unknown := set(self.correct) - set(ids):
            raise ValueError(f"question {self.id}: correct names options it does not have: {sorted(unknown)}")
        if self.kind != QuestionKind.MULTIPLE and len(set(self.correct)) != 1:
            raise ValueError(f"question {self.id}: a {self.kind.value} question has exactly one correct option")
        return self


class QuizSpec(BaseModel):
    """A quiz lesson's questions, pass mark and attempts limit."""

    model_config = ConfigDict(extra="forbid")

    questions: list[QuizQuestion] = Field(min_length=1, max_length=100)
    pass_mark_percent: int = Field(70, ge=1, le=100)
    max_attempts: int | None = Field(3, ge=1, le=50, description="null: unlimited")

    @model_validator(mode="after")
    def _unique_ids(self) -> QuizSpec:
        ids = [q.id for q in self.questions]
        if len(set(ids)) != len(ids):
            raise ValueError("question ids must differ")
        return self


class PublicQuestion(BaseModel):
    id: str
    kind: QuestionKind
    prompt: str
    options: list[QuizOption]
    points: int


class PublicQuiz(BaseModel):
    """What a client sees before answering: no answer key."""

    questions: list[PublicQuestion]
    pass_mark_percent: int
    max_attempts: int | None


def public_quiz(spec: QuizSpec) -> PublicQuiz:
    return PublicQuiz(questions=[PublicQuestion(id=q.id, kind=q.kind, prompt=q.prompt, options=q.options,
                                                points=q.points) for q in spec.questions],
                      pass_mark_percent=spec.pass_mark_percent, max_attempts=spec.max_attempts)


Answers = dict[str, list[str]]


class AnswerRefused(ValueError):
    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def check_answers(spec: QuizSpec, answers: Answers) -> None:
    """Refuse answers that do not fit the quiz (unknown question or option, two answers to a single
    choice), naming the field; an unanswered question is allowed and scores nothing."""
    questions = {q.id: q for q in spec.questions}
    for qid, chosen in answers.items():
        question = questions.get(qid)
        if question is None:
            raise AnswerRefused(f"this quiz has no question '{qid}'", f"answers.{qid}")
        unknown = set(chosen) - {o.id for o in question.options}
        if unknown:
            raise AnswerRefused(f"question '{qid}' has no option {sorted(unknown)[0]!r}", f"answers.{qid}")
        if question.kind != QuestionKind.MULTIPLE and len(set(chosen)) > 1:
            raise AnswerRefused(f"question '{qid}' takes one answer", f"answers.{qid}")


class QuestionResult(BaseModel):
    id: str
    correct: bool
    points: int
    right_options: list[str] | None = None   # revealed once the quiz is passed or no attempt is left
    explanation: str | None = None


class Graded(BaseModel):
    score_points: int
    total_points: int
    score_percent: int
    passed: bool
    questions: list[QuestionResult]


def grade(spec: QuizSpec, answers: Answers) -> Graded:
    results = []
    for q in spec.questions:
        right = set(answers.get(q.id, [])) == set(q.correct)
        results.append(QuestionResult(id=q.id, correct=right, points=q.points if right else 0))
    score = sum(r.points for r in results)
    total = sum(q.points for q in spec.questions)
    score_percent = (score * 100) // total
    return Graded(score_points=score, total_points=total, score_percent=score_percent,
                  passed=score_percent >= spec.pass_mark_percent, questions=results)


def reveal(spec: QuizSpec, graded: Graded) -> Graded:
    """The graded attempt with the answer key and explanations added (after passing, or the last try)."""
    key = {q.id: q for q in spec.questions}
    return graded.model_copy(update={"questions": [
        r.model_copy(update={"right_options": list(key[r.id].correct), "explanation": key[r.id].explanation})
        for r in graded.questions]})
