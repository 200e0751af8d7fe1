"""The pre-check of a parcel: its card's limits, the rules, and what could not be checked."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import ValidationError
from sqlalchemy import Connection

from core.errors import InvalidInputError
from layers.service import buildable_by_key
from permits.precheck.rules import evaluate
from permits.precheck.schemas import AnswerField, PrecheckAnswers, PrecheckPublic


def precheck_for(conn: Connection, parcel_key: str,
                 answers: PrecheckAnswers | Mapping[str, object]) -> PrecheckPublic:
    """The pre-check of a planned building on a parcel (the citizen's and the dossier's).

    A mapping may be a whole form's answers: only the building's fields are read.
    """
    if not isinstance(answers, PrecheckAnswers):
        answers = _answers(answers)
    buildable = buildable_by_key(conn, parcel_key)
    outcome = evaluate(buildable, answers)
    return PrecheckPublic(parcel_key=parcel_key, buildable=buildable,
                          findings=outcome.findings, checked=outcome.checked,
                          unchecked=outcome.unchecked)


def _answers(form: Mapping[str, object]) -> PrecheckAnswers:
    building = {f.value: form[f.value] for f in AnswerField if f.value in form}
    try:
        return PrecheckAnswers.model_validate(building)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise InvalidInputError(f"{error['loc'][0]}: {error['msg']}", str(error["loc"][0])) \
            from None
