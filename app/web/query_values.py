"""A value in a page's address that its form does not offer (a link cut short, a bookmark of
an older release, a value typed over): its 400 page names the field as the page's form labels
it and says what it may hold, in Dutch. A page's own query parameters (FastAPI's) say both as
their `title` and `description`; the filters a list page reads itself raise `WrongQueryValue`."""

import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import ParamSpec, Protocol, TypeVar

from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from app.ids import Id
from app.problems import ProblemError
from app.query_keys import takes_many
from app.schemas import MAX_DATE, MIN_DATE, Date

P = ParamSpec("P")
T = TypeVar("T")


class WrongQueryValue(ProblemError):
    """A value in a page's address that its form does not offer (a link cut short, a value
    typed over): the page names the field as its form labels it and says what it may hold."""

    status, code, title = 400, "wrong_query_value", "Deze waarde klopt niet"

    def __init__(self, label: str, holds: str) -> None:
        super().__init__(wrong_value(label, holds))
        self.sentences = [str(self)]
        self.label, self.holds = label, holds


class Params(Protocol):
    """A page's query parameters (Starlette's `QueryParams`): a key may come more than once."""

    def getlist(self, key: str) -> list[str]: ...

    def multi_items(self) -> list[tuple[str, str]]: ...


class QueryValues:
    """A list page's filters read one by one, each wrong value kept: `check` then names them
    all in one 400, as the API's `invalidParams` does (the page named only the first, so a
    person fixed one and met the next). `given` holds the filters given once and not empty; a
    field of the page's form (`labels`: its label there, by key) given more than once is no
    filter, named by `check` as the API's 400 names a repeated key (the page silently took the
    last: `?status=a&status=b` listed status b). `found` holds each wrong value as (its key,
    None for a label not in `labels`; its label; what it may hold), to say beside its field."""

    def __init__(self, params: Params, labels: Mapping[str, str]) -> None:
        self.labels = labels
        twice = repeated(params, labels)
        self.found: list[tuple[str | None, str, str]] = [
            (key, labels[key], GIVEN_TWICE) for key in twice
        ]
        self.given = {k: v for k, v in params.multi_items() if v and k not in twice}

    @property
    def wrong(self) -> list[str]:
        """Every wrong value found, as the sentence naming it (one per field)."""
        return [wrong_value(label, holds) for _, label, holds in self.found]

    def read(self, parse: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T | None:
        """What `parse` reads, or None (no narrowing) for a wrong value, kept for `check`."""
        try:
            return parse(*args, **kwargs)
        except WrongQueryValue as exc:
            key = next((k for k, label in self.labels.items() if label == exc.label), None)
            self.found.append((key, exc.label, exc.holds))
            return None

    def check(self) -> None:
        """A 400 naming every wrong value read, if any."""
        if self.wrong:
            raise WrongQueryValues(self.wrong)


class WrongQueryValues(WrongQueryValue):
    """Every wrong value of a page's address (`QueryValues`), each named as `WrongQueryValue`
    names one."""

    def __init__(self, sentences: list[str]) -> None:
        ProblemError.__init__(self, " ".join(sentences))
        self.sentences = sentences


def repeated(params: Params, keys: Iterable[str]) -> list[str]:
    """The `keys` that `params` hold more than once, in the order of `keys`."""
    return [key for key in keys if len(params.getlist(key)) > 1]


def wrong_value(label: str, holds: str) -> str:
    """The Dutch sentence of a field's wrong value: its label on the form, what it may hold."""
    return f"Deze waarde klopt niet: {label}. {holds}"


def one_of(options: Iterable[str]) -> str:
    """What a choice may hold, as its form's options name them."""
    return "Kies een van: " + ", ".join(options) + "."


GIVEN_TWICE = (
    "Het adres geeft dit veld meer dan één keer; geef het één keer (kies in het formulier)."
)
"""What a field given more than once in a page's address is told (the API refuses it too)."""
WRONG_VALUES = "Niet alle gekozen waarden kloppen; pas ze hieronder aan."
"""The error summary's text above the wrong values of a page's address, shown with its form."""
CHOOSE_FROM_FORM = "Kies een waarde uit het formulier."
"""What a field of a page's address may hold, where its parameter does not say (`description`)."""
DATE_RULE = (
    f"Een bestaande datum in de jaren {MIN_DATE.year} tot en met {MAX_DATE.year}, geschreven als "
    "jaar-maand-dag, bijvoorbeeld 2027-01-31."
)
"""What a date in a page's address or form may hold (the form's date field sends it so): the
years too, as a year typed wrong (2207 for 2027) is refused for them alone."""
DAY: TypeAdapter[date] = TypeAdapter(Date)
PAGE_ID: TypeAdapter[uuid.UUID] = TypeAdapter(Id)
"""An id in a page's address, read as the API reads one in a query (`app.ids.Id`: 8-4-4-4-12,
either case): pydantic's UUID also took `urn:uuid:`, braces and 32 digits without hyphens,
which the API refuses, so one filter answered at several addresses."""
NEXT_PAGE = "Gebruik de link Volgende pagina onder de lijst."
"""What a list page's `na` (the next page's cursor, no field of its form) may hold."""


def given_twice(params: Params, dependant: Dependant) -> list[str]:
    """The fields of a page's own query parameters (FastAPI's, which would take the last of a
    key given more than once) that the address gives more than once, named by their labels on
    the page's form (`title`), as the API refuses a repeated key."""
    fields = query_fields(dependant)
    # A parameter without a label (sign-in's `volgende`, any path) is no field of a form.
    single = [k for k, info in fields.items() if info.title and not takes_many(info.annotation)]
    return [wrong_value(str(fields[k].title), GIVEN_TWICE) for k in repeated(params, single)]


def wrong_fields(
    exc: RequestValidationError, dependant: Dependant, sent: Params
) -> list[str] | None:
    """The fields of the address or the form that FastAPI refused (`?periode=jaarlijks`), named
    as the page's form labels them (the parameter's `title`) with what they may hold (its
    `description`); None for a wrong path (a 404 page says enough). A day the page reads itself
    (text described by `DATE_RULE`, the monitor's) that is no date in the address (`sent`), or
    that it gives more than once, is named with them: the page that would have named it is not
    reached."""
    refused = {
        str(loc[1])
        for error in exc.errors()
        if len(loc := error.get("loc", ())) > 1 and loc[0] in ("query", "body")
    }
    if not refused:
        return None
    declared = query_fields(dependant)
    days = {n: sent.getlist(n) for n, info in declared.items() if info.description == DATE_RULE}
    twice = {n for n, values in days.items() if len(values) > 1}
    no_day = {n for n, values in days.items() if values and _no_day(values[-1])}
    sentences = []
    for name in sorted(refused | twice | no_day):
        info = declared.get(name)
        label = info.title if info is not None and info.title else name
        holds = info.description if info is not None and info.description else CHOOSE_FROM_FORM
        sentences.append(wrong_value(label, GIVEN_TWICE if name in twice else holds))
    return sentences


def _no_day(value: str) -> bool:
    """A day the page reads itself (`DATE_RULE` text) that is no date: named with the rest."""
    if not value:
        return False
    try:
        DAY.validate_python(value)
    except ValidationError:
        return True
    return False


def query_fields(dependant: Dependant) -> dict[str, FieldInfo]:
    """The query parameters of a route and of its dependencies, by name."""
    found = {p.alias: p.field_info for p in dependant.query_params}
    for sub in dependant.dependencies:
        found |= query_fields(sub)
    return found
