"""schemathesis hooks for `make contract`: refusals allowed by problem code.

schemathesis' own `positive_data_acceptance` allows a refusal by its status,
for a whole operation: one honest reason (the clock, DNS, the database's
contents) would then silence every other refusal with that status there.
This check takes its place (schemathesis.toml disables the built-in one):
a request the contract calls valid may be refused with a status outside
schemathesis' defaults only when the operation is listed in
`[checks.explained_refusals.allowed]` with that status *and* the problem's
`code` (for `validation_failed`, the code of every field error listed).
Everything else goes to the built-in check, unchanged.
"""

import json

import schemathesis
from schemathesis.specs.openapi.checks import positive_data_acceptance


@schemathesis.check
class explained_refusals:
    def __init__(self, allowed):
        # operation id -> status (as a string) -> problem codes
        self.allowed = allowed

    def after_response(self, ctx, response, case):
        meta = case.meta
        if meta is not None and meta.generation.mode.is_positive and self._explained(case, response):
            return None
        return positive_data_acceptance(ctx, response, case)

    def _explained(self, case, response):
        operation_id = (case.operation.definition.raw or {}).get("operationId")
        codes = self.allowed.get(operation_id, {}).get(str(response.status_code))
        if not codes:
            return False
        try:
            problem = json.loads(response.content)
        except ValueError:
            return False
        if not isinstance(problem, dict):
            return False
        if problem.get("code") == "validation_failed":
            errors = problem.get("errors") or []
            return bool(errors) and all(isinstance(e, dict) and e.get("code") in codes for e in errors)
        return problem.get("code") in codes
