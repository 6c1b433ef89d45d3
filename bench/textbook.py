"""The textbook stack: FastAPI + SQLAlchemy ORM, written the way the tutorials teach it.

A declarative model per table, a ``Session`` per request from a ``Depends(get_db)``
generator, an API-key dependency that loads the key through the ORM, and a Pydantic
``response_model`` built ``from_attributes``. Sync ORM (FastAPI's SQL tutorial style; the
endpoints run in the threadpool, like the real server's), on the same drivers as the
server (sqlite3, psycopg 3). Only GET customer by display id, the issue's comparison.

    PIVOTAL_DATABASE_URL=sqlite:///bench/.data/bench.db PIVOTAL_SECRET_KEY=bench-secret-key \\
        .venv/bin/granian --interface asgi --working-dir bench textbook:app
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException
from pydantic import BaseModel, ConfigDict, field_validator
from sqlalchemy import BigInteger, ForeignKey, String, Text, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from pivotal.config import normalize_database_url
from pivotal.core import clock


class Base(DeclarativeBase):
    pass


class Workspace(Base):
    __tablename__ = "workspaces"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    slug: Mapped[str] = mapped_column(String(120))


class ApiKey(Base):
    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    name: Mapped[str] = mapped_column(String(100))
    key_hash: Mapped[str] = mapped_column(String(64))
    revoked_at: Mapped[int | None] = mapped_column(BigInteger)


class Customer(Base):
    __tablename__ = "customers"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    display_id: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(255))
    slug: Mapped[str] = mapped_column(String(120))
    domain: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))
    plan: Mapped[str | None] = mapped_column(String(120))
    mrr: Mapped[int | None] = mapped_column(BigInteger)
    monthly_orders: Mapped[int | None] = mapped_column(BigInteger)
    hubspot_company_id: Mapped[str | None] = mapped_column(String(255))
    hubspot_deal_id: Mapped[str | None] = mapped_column(String(255))
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255))
    intercom_company_id: Mapped[str | None] = mapped_column(String(255))
    slack_channel_id: Mapped[str | None] = mapped_column(String(255))
    metadata_: Mapped[str] = mapped_column("metadata", Text)
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)
    deleted_at: Mapped[int | None] = mapped_column(BigInteger)


class CustomerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    display_id: int
    name: str
    slug: str
    domain: str | None
    status: str
    plan: str | None
    mrr: int | None
    monthly_orders: int | None
    hubspot_company_id: str | None
    hubspot_deal_id: str | None
    stripe_customer_id: str | None
    intercom_company_id: str | None
    slack_channel_id: str | None
    created_at: datetime
    updated_at: datetime

    @field_validator("created_at", "updated_at", mode="before")
    @classmethod
    def _from_us(cls, value: Any) -> Any:
        return clock.from_us(value) if isinstance(value, int) else value


URL = normalize_database_url(os.environ["PIVOTAL_DATABASE_URL"])
PEPPER = os.environ.get("PIVOTAL_SECRET_KEY", "bench-secret-key").encode()
engine = create_engine(
    URL, connect_args={"check_same_thread": False} if URL.startswith("sqlite") else {}
)
SessionLocal = sessionmaker(bind=engine, autoflush=False)
app = FastAPI(title="textbook")


def get_db() -> Iterator[Session]:
    with SessionLocal() as session:
        yield session


def current_key(
    db: Annotated[Session, Depends(get_db)], authorization: Annotated[str, Header()] = ""
) -> ApiKey:
    token = authorization.partition(" ")[2].strip()
    digest = hmac.new(PEPPER, token.encode(), hashlib.sha256).hexdigest()
    key = db.scalars(select(ApiKey).where(ApiKey.key_hash == digest)).first()
    if key is None or key.revoked_at is not None:
        raise HTTPException(status_code=401, detail="invalid_api_key")
    return key


@app.get("/api/v1/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/api/v1/customers/{display_id}", response_model=CustomerOut)
def get_customer(
    display_id: int,
    db: Annotated[Session, Depends(get_db)],
    key: Annotated[ApiKey, Depends(current_key)],
) -> Customer:
    customer = db.scalars(
        select(Customer).where(
            Customer.workspace_id == key.workspace_id,
            Customer.display_id == display_id,
            Customer.deleted_at.is_(None),
        )
    ).first()
    if customer is None:
        raise HTTPException(status_code=404, detail="customer_not_found")
    return customer
