"""The survey aggregate: a brand's short survey, its questions, and the answers customers give."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models import db
from models.common import ANSWER_TEXT_MAX, NAME_MAX, localized, utcnow

QUESTION_KINDS = ("rating", "yes_no", "choice", "nps", "text")


class Survey(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    # The survey shown at touchpoints that do not name one of their own.
    is_default: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)

    questions: Mapped[list["Question"]] = relationship(
        back_populates="survey", order_by="Question.position, Question.id",
        cascade="all, delete-orphan")

    @property
    def live_questions(self):
        """Return the questions customers are asked: retired ones keep only their answers."""
        return [q for q in self.questions if q.retired_at is None]

    @classmethod
    def for_touchpoint(cls, brand, touchpoint=None):
        """Return the active survey shown at `touchpoint` (or the brand's default), or None."""
        if touchpoint is not None and touchpoint.survey is not None and touchpoint.survey.active:
            return touchpoint.survey
        return db.session.scalar(
            db.select(cls).filter_by(brand_id=brand.id, is_default=True, active=True)
            .order_by(cls.id))


class Question(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(String(10))
    prompt: Mapped[dict] = mapped_column(JSON, default=dict)
    # For kind "choice": [{"value": "breakfast", "labels": {"en": "Breakfast", "tr": "Kahvaltı"}}]
    choices: Mapped[list] = mapped_column(JSON, default=list)
    # A required question must be answered unless the customer skips the whole survey.
    required: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    # A question with answers is retired, never edited or deleted: its answers keep meaning.
    retired_at: Mapped[datetime | None] = mapped_column()

    survey: Mapped[Survey] = relationship(back_populates="questions")

    @property
    def field_name(self):
        return f"q{self.id}"

    def text(self, language):
        return localized(self.prompt, language)

    def choice_options(self, language):
        """Return [(value, label)] for a choice question."""
        return [(c["value"], localized(c.get("labels"), language) or c["value"])
                for c in self.choices or []]


class SurveyResponse(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id"), index=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id"), index=True)
    touchpoint_id: Mapped[int | None] = mapped_column(ForeignKey("touchpoint.id"))
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversation.id"), index=True)
    language: Mapped[str] = mapped_column(String(5), default="en")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    survey: Mapped[Survey] = relationship()
    answers: Mapped[list["Answer"]] = relationship(
        back_populates="response", cascade="all, delete-orphan", order_by="Answer.id")
    conversation: Mapped["Conversation | None"] = relationship(  # noqa: F821
        back_populates="survey_responses")


class Answer(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("survey_response.id"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"))
    # Ratings, yes/no (1/0) and NPS keep a number for reports; choice and text keep text.
    number: Mapped[int | None] = mapped_column()
    text: Mapped[str | None] = mapped_column(String(ANSWER_TEXT_MAX))

    response: Mapped[SurveyResponse] = relationship(back_populates="answers")
    question: Mapped[Question] = relationship()

    def display(self, language):
        """Return the answer as a person reads it."""
        q = self.question
        if q.kind == "yes_no":
            return {1: "✓", 0: "✗"}.get(self.number, "")
        if q.kind == "choice":
            return dict(q.choice_options(language)).get(self.text, self.text or "")
        if q.kind in ("rating", "nps"):
            return "" if self.number is None else str(self.number)
        return self.text or ""
