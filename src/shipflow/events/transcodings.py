"""How our value objects and enums are stored inside events and snapshots.

Every :class:`ValueObject` subclass and every enum of the domain gets a transcoding under
its class name. Decoding uses ``model_construct``: history is never re-validated, so a rule
added later cannot make an old event unreadable (shape changes go through upcasters).
"""

from __future__ import annotations

from datetime import date
from enum import Enum
from typing import Any

from eventsourcing.persistence import JSONTranscoder, Transcoding
from pydantic import BaseModel

from shipflow.events import common
from shipflow.events.account import values as account_values
from shipflow.events.account.pmap import PMapAsDict
from shipflow.events.shipment import booking, charges, documents, records, tracking


class ModelTranscoding(Transcoding):
    def __init__(self, cls: type[BaseModel]) -> None:
        self.type = cls
        self.model = cls
        self.name = cls.__name__
        self._fields = tuple(cls.model_fields)
        self._field_set = frozenset(self._fields)

    def encode(self, obj: BaseModel) -> dict[str, Any]:
        # Shallow: nested values are encoded by their own transcodings.
        return {f: getattr(obj, f) for f in self._fields}

    def decode(self, data: dict[str, Any]) -> BaseModel:
        if data.keys() != self._field_set:  # an older shape: let pydantic fill defaults
            return self.model.model_construct(**data)
        # The common case, as model_construct does it minus its generality (it is the
        # hottest call when views are rebuilt).
        obj = self.model.__new__(self.model)
        object.__setattr__(obj, "__dict__", data)
        object.__setattr__(obj, "__pydantic_fields_set__", set(self._fields))
        object.__setattr__(obj, "__pydantic_extra__", None)
        object.__setattr__(obj, "__pydantic_private__", None)
        return obj


class EnumTranscoding(Transcoding):
    def __init__(self, cls: type[Enum]) -> None:
        self.type = cls
        self.name = cls.__name__

    def encode(self, obj: Enum) -> Any:
        return obj.value

    def decode(self, data: Any) -> Enum:
        return self.type(data)


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class FrozenSetAsList(Transcoding):
    type = frozenset
    name = "frozenset"

    def encode(self, obj: frozenset) -> list[Any]:
        return sorted(obj)

    def decode(self, data: list[Any]) -> frozenset:
        return frozenset(data)


def _subclasses(cls: type[common.ValueObject]) -> list[type[common.ValueObject]]:
    found: list[type[common.ValueObject]] = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


def domain_types() -> tuple[list[type[BaseModel]], list[type[Enum]]]:
    modules = (common, booking, charges, documents, records, tracking, account_values)
    models: list[type[BaseModel]] = [c for c in _subclasses(common.ValueObject)
                                     if c.__module__.startswith("shipflow.events.")]
    enums = [obj for m in modules for obj in vars(m).values()
             if isinstance(obj, type) and issubclass(obj, Enum) and obj.__module__ == m.__name__]
    return models, enums


def register_domain_transcodings(transcoder: JSONTranscoder) -> None:
    models, enums = domain_types()
    names = [c.__name__ for c in (*models, *enums)]
    duplicated = {n for n in names if names.count(n) > 1}
    if duplicated:  # a stored name must identify one type forever
        raise RuntimeError(f"value types share a stored name: {duplicated}")
    transcoder.register(DateAsISO())
    transcoder.register(PMapAsDict())
    transcoder.register(FrozenSetAsList())
    for cls in models:
        transcoder.register(ModelTranscoding(cls))
    for enum in enums:
        transcoder.register(EnumTranscoding(enum))
