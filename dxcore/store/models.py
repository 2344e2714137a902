"""The results store: SQLAlchemy 2 typed ORM models. Alembic migrations must match these (a test checks)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Deterministic constraint names, so migrations can alter them on SQLite and PostgreSQL alike.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}



class PrintedDecimal(TypeDecorator):
    """An exact decimal that keeps the digits it was printed with: "0,8340" comes back as Decimal("0.8340"), "96,5"
    as Decimal("96.5"). PostgreSQL's unconstrained NUMERIC keeps a value's scale; SQLite would turn NUMERIC into a
    float, so there the decimal is stored as its text. Wide enough for 1000.00 points and indices of any precision.
    (Before migration 0008 percentages were NUMERIC(6, 3): those come back with three decimals.)"""

    impl = String(32)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect):
        return dialect.type_descriptor(Numeric(asdecimal=True) if dialect.name == "postgresql" else String(32))

    def process_bind_param(self, value, dialect: Dialect):
        if value is None or dialect.name == "postgresql":
            return value
        return format(Decimal(value), "f")

    def process_result_value(self, value, dialect: Dialect):
        if value is None or isinstance(value, Decimal):
            return value
        return Decimal(str(value))

TelegramId = BigInteger  # Telegram user and chat ids exceed 32 bits


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Decision(Base):
    __tablename__ = "decision"
    __table_args__ = (UniqueConstraint("issuer", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(String(200))
    number: Mapped[str] = mapped_column(String(100))
    signed_date: Mapped[date] = mapped_column(Date)
    evaluated_year: Mapped[int] = mapped_column(Integer, index=True)
    title: Mapped[str] = mapped_column(Text, default="")
    content_hash: Mapped[str] = mapped_column(String(64))
    source_name: Mapped[str] = mapped_column(String(300))
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    published_by: Mapped[str | None] = mapped_column(String(100))
    receipt_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # admins told the run ended
    # What the decision says about itself, as printed: who signed it, and the documents it is based on.
    signer: Mapped[str | None] = mapped_column(String(200))
    signer_title: Mapped[str | None] = mapped_column(String(200))
    basis: Mapped[list[str] | None] = mapped_column(JSON, default=list)

    rankings: Mapped[list[Ranking]] = relationship(
        back_populates="decision", cascade="all, delete-orphan", order_by="Ranking.position"
    )


class Ranking(Base):
    """One appendix table: a decision's (or report's) ranking of one level, or of one group of it."""

    __tablename__ = "ranking"
    __table_args__ = (UniqueConstraint("decision_id", "level", "group_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decision.id", ondelete="CASCADE"))
    level: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(Integer)  # order of the appendices in the document
    appendix: Mapped[str] = mapped_column(String(200))
    # Điều 1's counts in the decision's own wording and order: [{"tier": "tot", "label": "Xếp loại Tốt", "count": 8}]
    stated_counts: Mapped[list[dict]] = mapped_column(JSON)
    # The group as printed ("Khối cơ quan Trung ương", "Nhóm sở có TTHC"); "" for the whole level.
    group_name: Mapped[str] = mapped_column(String(300), default="", server_default="")
    # What a result's score is: "percent" (0–100), "points" (out of score_max), "index" (0–1); NULL: ranks only.
    # No Python-side default: None (ranks only) must be stored as NULL, not as the old rows' "percent".
    score_kind: Mapped[str | None] = mapped_column(String(10), server_default="percent")
    score_max: Mapped[Decimal | None] = mapped_column(PrintedDecimal)
    subscore_names: Mapped[list[str]] = mapped_column(JSON, default=list)  # sub-index columns, as printed
    # Each sub-index's maximum where the document prints one ("Điểm tối đa"), as a decimal string, else null.
    subscore_maxima: Mapped[list[str | None]] = mapped_column(JSON, default=list, server_default="[]")

    decision: Mapped[Decision] = relationship(back_populates="rankings")
    results: Mapped[list[Result]] = relationship(
        back_populates="ranking", cascade="all, delete-orphan", order_by="Result.position"
    )


class Unit(Base):
    """A ranked body, stable across decisions: (issuer, level, normalised name)."""

    __tablename__ = "unit"
    __table_args__ = (UniqueConstraint("issuer", "level", "name_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(20))
    name_key: Mapped[str] = mapped_column(String(300))
    name: Mapped[str] = mapped_column(String(300))  # as printed in the latest decision that ranks it


class Result(Base):
    __tablename__ = "result"
    __table_args__ = (UniqueConstraint("ranking_id", "unit_id"), Index("ix_result_unit", "unit_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    ranking_id: Mapped[int] = mapped_column(ForeignKey("ranking.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    position: Mapped[int] = mapped_column(Integer)  # row order in the appendix
    rank: Mapped[int | None] = mapped_column(Integer)  # None: printed "Không xếp hạng" (scored, not ranked)
    score: Mapped[Decimal | None] = mapped_column(PrintedDecimal)  # exactly as printed; NULL in a rank-only ranking
    tier: Mapped[str | None] = mapped_column(String(20))  # tier code; NULL when the ranking prints none
    tier_printed: Mapped[str | None] = mapped_column(String(100))  # the tier word as printed
    # Sub-index values as printed, in the order of the ranking's subscore_names: [{"value": "12.5", "printed": "12,5"}]
    subscores: Mapped[list[dict] | None] = mapped_column(JSON)
    printed_name: Mapped[str] = mapped_column(String(300))

    ranking: Mapped[Ranking] = relationship(back_populates="results")
    unit: Mapped[Unit] = relationship()


class Alias(Base):
    """Text → unit, for what no vocabulary rule derives: curated, or learned from users' picks."""

    __tablename__ = "alias"
    # One row per user and answer: a user tapping the same unit again (or from another chat) adds no weight.
    __table_args__ = (Index("ix_alias_text_key", "text_key"), UniqueConstraint("text_key", "unit_id", "user_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    text_key: Mapped[str] = mapped_column(String(300))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(20))  # "curated" | "learned"
    chat_id: Mapped[int | None] = mapped_column(TelegramId)
    user_id: Mapped[int | None] = mapped_column(TelegramId)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Audit(Base):
    """Who changed what: every ingest, replace and publish (the CLI acts as ``cli:<os user>``)."""

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(40))
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decision.id", ondelete="SET NULL"))
    file_name: Mapped[str | None] = mapped_column(String(300))
    file_hash: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)


class Chat(Base):
    """A Telegram chat the bot knows: where alerts go, and whether it still can."""

    __tablename__ = "chat"

    id: Mapped[int] = mapped_column(TelegramId, primary_key=True, autoincrement=False)  # Telegram's chat id
    type: Mapped[str] = mapped_column(String(20))  # private | group | supergroup | channel
    title: Mapped[str | None] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(default=True)  # False once the bot was blocked or removed
    migrated_to: Mapped[int | None] = mapped_column(TelegramId)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    language: Mapped[str] = mapped_column(String(8), default="vi", server_default="vi")  # of its alerts


class Subscription(Base):
    """What a chat (or one forum topic of it) follows: every new decision, a level, or a unit."""

    __tablename__ = "subscription"
    __table_args__ = (UniqueConstraint("chat_id", "thread_id", "scope", "level", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(TelegramId, ForeignKey("chat.id", ondelete="CASCADE", onupdate="CASCADE"))
    thread_id: Mapped[int] = mapped_column(BigInteger, default=0)  # forum topic; 0 = the chat itself
    scope: Mapped[str] = mapped_column(String(10))  # all | level | unit
    level: Mapped[str] = mapped_column(String(20), default="")
    unit_id: Mapped[int] = mapped_column(Integer, default=0)  # 0 unless scope = unit (kept non-null for uniqueness)
    silent: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[int | None] = mapped_column(TelegramId)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Delivery(Base):
    """The outbox: one alert per decision, chat and topic, combining every subscription there."""

    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("decision_id", "chat_id", "thread_id"),
        Index("ix_delivery_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decision.id", ondelete="CASCADE"))
    chat_id: Mapped[int] = mapped_column(TelegramId)
    thread_id: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending|sending|sent|failed|blocked
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PendingPublish(Base):
    """A decision an admin sent and was shown a preview of, as parsed; Publish or Cancel refers to it by id (replicas
    share it through the database, and it survives a restart)."""

    __tablename__ = "pending_publish"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(TelegramId)
    chat_id: Mapped[int] = mapped_column(TelegramId)
    file_name: Mapped[str] = mapped_column(String(300))
    file_hash: Mapped[str] = mapped_column(String(64))
    content_hash: Mapped[str] = mapped_column(String(64))
    parsed: Mapped[str] = mapped_column(Text)  # ParsedDecision.to_json(): Publish stores exactly what was previewed
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AnswerLink(Base):
    """Which messages answered a question: an edited question edits them, and a group's repeated command points to
    them. In the database so that it survives a restart and every replica sees it."""

    __tablename__ = "answer_link"
    __table_args__ = (
        UniqueConstraint("chat_id", "question_id"),
        Index("ix_answer_link_recent", "chat_id", "question_key", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(TelegramId)
    question_id: Mapped[int] = mapped_column(BigInteger)  # the user's message
    question_key: Mapped[str] = mapped_column(String(200))  # the question, normalised, to spot a repeat
    answer_ids: Mapped[list[int]] = mapped_column(JSON)  # the bot's messages, in order
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
