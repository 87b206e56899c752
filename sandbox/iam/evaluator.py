"""IAM policy evaluation as the IAM User Guide documents it, for the sandbox to authorize requests the way AWS does.

The rules, with the guide's page for each (awsdocs/iam-user-guide, doc_source/):
- reference_policies_evaluation-logic.md: an explicit Deny wins, else an Allow, else implicit deny. A statement
  applies when its action, resource, principal (resource-based policies) and every condition match: an Allow whose
  condition fails does not apply, it never denies.
- reference_policies_elements_action.md / _notaction.md / _resource.md / _notresource.md: `*` and `?` wildcards;
  actions compare case-insensitively, resources case-sensitively (a resource's `*` also spans `/` and `:`).
- reference_policies_elements_condition_operators.md and reference_policies_multi-value-conditions.md: operators
  AND-ed, keys AND-ed, a key's values OR-ed (NOR for negated operators); key names case-insensitive.
- reference_policies_single-vs-multi-valued-condition-keys.md (now ..._condition-single-vs-multi-valued-context-keys):
  list-valued (multivalued) context keys need ForAllValues:/ForAnyValue:, and cannot be policy variables.
- reference_policies_variables.md: `${key}`, `${key, 'default'}`, `${*}`, `${?}`, `${$}` (policy Version 2012-10-17
  only); a variable with no value matches nothing, so negated operators hold ("Policy variables with no value").

What this module cannot decide exactly raises Undecidable rather than guessing: an operator it does not implement, a
condition key (or variable) outside SUPPORTED_CONDITION_KEYS, a malformed statement or value. A statement that
cannot be decided raises only when the decision depends on it (a Deny that certainly applies still denies).
"""

from __future__ import annotations

import dataclasses
import enum
import ipaddress
import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache, partial
from typing import Any, TypeAlias

ContextValue: TypeAlias = str | bool | int | float | datetime | list[str]
PATTERNS_KEPT = 4096  # distinct policy strings (after their variables), as compiled regular expressions

# Condition keys the sandbox supplies in a request context whenever AWS would: any other key raises Undecidable,
# because its absence from a context would otherwise silently decide a condition. Case-insensitive; a trailing `*`
# stands for any non-empty suffix (a tag key, an encryption context key).
# fmt: off
SUPPORTED_CONDITION_KEYS: tuple[str, ...] = (
    "kms:ViaService", "kms:EncryptionContext:*", "kms:CallerAccount",
    "route53:ChangeResourceRecordSetsNormalizedRecordNames", "route53:ChangeResourceRecordSetsRecordTypes",
    "route53:ChangeResourceRecordSetsActions",
    "secretsmanager:ResourceTag/*", "secretsmanager:Name", "secretsmanager:BlockPublicPolicy",
    "aws:ResourceTag/*", "aws:RequestTag/*", "aws:TagKeys", "aws:PrincipalTag/*", "aws:PrincipalArn",
    "aws:PrincipalAccount", "aws:PrincipalOrgID", "aws:SecureTransport",
    "ssm:resourceTag/*", "events:source", "events:detail-type",
    "dynamodb:LeadingKeys", "dynamodb:Attributes", "dynamodb:Select", "dynamodb:ReturnValues",
    "sts:ExternalId", "sts:RoleSessionName",
)
# fmt: on


def is_supported_key(name: str) -> bool:
    """Whether `name` matches SUPPORTED_CONDITION_KEYS (case-insensitively)."""
    key = name.lower()
    patterns = (pattern.lower() for pattern in SUPPORTED_CONDITION_KEYS)
    return any(key == p or (p.endswith("*") and key.startswith(p[:-1]) and len(key) >= len(p)) for p in patterns)


@dataclasses.dataclass(frozen=True)
class Request:
    """One authorization question: `action` ("dynamodb:UpdateItem"), `resource` (one ARN, or "*" for an action without
    resource-level permissions), and the request context (condition key -> value; multivalued keys are lists)."""

    action: str
    resource: str
    context: Mapping[str, ContextValue]


class Decision(enum.Enum):
    ALLOWED = "allowed"
    EXPLICIT_DENY = "explicit deny"
    IMPLICIT_DENY = "implicit deny"  # no statement allows


class Undecidable(Exception):
    """A decision that cannot be computed (unsupported operator or key, malformed policy): never allow or deny then."""


VERSION_WITH_VARIABLES = "2012-10-17"
_QUALIFIERS = ("forallvalues:", "foranyvalue:")
_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_VARIABLE_BODY = re.compile(r"\s*([^\s,']+)\s*(?:,\s*'([^']*)'\s*)?")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_ROLE_ARN = re.compile(r"arn:(?P<partition>[\w-]+):iam::(?P<account>\d{12}):role/.+")
_NO_ROLE_PRINCIPALS = ("Service", "Federated", "CanonicalUser")  # principal types a role session never is


@dataclasses.dataclass(frozen=True)
class _Eval:
    """What evaluating one statement needs: the context (lower-cased keys), whether `${...}` are variables, its name."""

    context: Mapping[str, ContextValue]
    variables: bool
    name: str

    def fail(self, message: str) -> Undecidable:
        return Undecidable(f"{self.name}: {message}")


_Compare: TypeAlias = Callable[[object, str, _Eval], bool]  # one context value against one policy value
_Check: TypeAlias = Callable[[], bool]
_Statement: TypeAlias = Mapping[str, Any]


def _text(value: object, ev: _Eval) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    raise ev.fail(f"{value!r} is not a single value")


def _strings(raw: object, what: str, ev: _Eval) -> list[str]:
    items = raw if isinstance(raw, list) else [raw]
    strings = [item for item in items if isinstance(item, str)]
    if len(strings) != len(items):
        raise ev.fail(f"{what} must be a string or a list of strings, not {raw!r}")
    return strings


def _pieces(text: str, ev: _Eval) -> list[tuple[str, bool]] | None:
    """`text` as (piece, raw) pairs, raw pieces from the policy (their `*`/`?` may be wildcards), the others variable
    values (literal). None when a variable has no value and no default: then the policy value matches nothing."""
    if not ev.variables:
        return [(text, True)]
    pieces: list[tuple[str, bool]] = []
    for index, part in enumerate(_VARIABLE.split(text)):  # literal, variable body, literal, ...
        if index % 2 == 0 or part in ("*", "?", "$"):
            pieces.append((part, index % 2 == 0))
            continue
        match = _VARIABLE_BODY.fullmatch(part)
        if match is None or not is_supported_key(match[1]):
            raise ev.fail(f"policy variable ${{{part}}} is malformed or not in SUPPORTED_CONDITION_KEYS")
        found = ev.context.get(match[1].lower())
        if isinstance(found, list):
            raise ev.fail(f"multivalued key {match[1]} cannot be a policy variable")
        if found is None and match[2] is None:
            return None
        pieces.append((match[2] if found is None else _text(found, ev), False))
    return pieces


def _matches(pattern: str, value: str, ev: _Eval, *, wild: bool, ignore_case: bool = False, arn: bool = False) -> bool:
    """Whether `value` matches the policy string `pattern`. With `arn`, wildcards stay within one of the ARN's first
    five colon-separated parts (ArnLike: each part is checked separately; the sixth, the resource, may hold colons)."""
    pieces = _pieces(pattern, ev)
    if pieces is None:
        return False
    compiled = _compiled(tuple(pieces), wild, ignore_case, arn)
    if compiled is None:
        raise ev.fail(f"ARN operator value {pattern!r} is not an ARN")
    return compiled.fullmatch(value) is not None


@lru_cache(maxsize=PATTERNS_KEPT)
def _compiled(pieces: tuple[tuple[str, bool], ...], wild: bool, ignore_case: bool, arn: bool) -> re.Pattern[str] | None:
    """The regular expression of a policy string's pieces (see _matches), made once per distinct pieces: the sandbox
    asks every request the same few hundred. None for an ARN pattern with fewer than five colons."""
    regex: list[str] = []
    colons = 0
    for piece, raw in pieces:
        for char in piece:
            if raw and wild and char in "*?":
                regex.append(("[^:]" if arn and colons < 5 else ".") + ("*" if char == "*" else ""))
            else:
                colons += char == ":"
                regex.append(re.escape(char))
    if arn and colons < 5:
        return None
    return re.compile("".join(regex), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _string(*, wild: bool = False, ignore_case: bool = False, arn: bool = False) -> _Compare:
    def compare(value: object, policy: str, ev: _Eval) -> bool:
        return _matches(policy, _text(value, ev), ev, wild=wild, ignore_case=ignore_case, arn=arn)

    return compare


def _number(raw: object, ev: _Eval) -> float:
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return float(raw)
    if isinstance(raw, str) and _NUMBER.fullmatch(raw):
        return float(raw)
    raise ev.fail(f"{raw!r} is not a number")


def _date(raw: object, ev: _Eval) -> datetime:
    """ISO 8601 (W3C) or epoch seconds, per reference_policies_elements_condition_operators.md; naive means UTC."""
    seconds = isinstance(raw, int | float) and not isinstance(raw, bool)
    if seconds or (isinstance(raw, str) and _NUMBER.fullmatch(raw)):
        return datetime.fromtimestamp(_number(raw, ev), UTC)
    try:
        parsed = raw if isinstance(raw, datetime) else datetime.fromisoformat(str(raw))
    except ValueError:
        raise ev.fail(f"{raw!r} is not a date") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _boolean(raw: object, ev: _Eval) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    raise ev.fail(f"{raw!r} is not a boolean")


def _ordered(parse: Callable[[object, _Eval], Any], compare: Callable[[Any, Any], Any]) -> _Compare:
    return lambda value, policy, ev: bool(compare(parse(value, ev), parse(policy, ev)))


def _bool(value: object, policy: str, ev: _Eval) -> bool:
    pieces = _pieces(policy, ev)  # Bool takes policy variables (reference_policies_elements_condition_operators)
    return pieces is not None and _boolean(value, ev) == _boolean("".join(p for p, _ in pieces), ev)


def _ip(value: object, policy: str, ev: _Eval) -> bool:
    try:
        return ipaddress.ip_address(_text(value, ev)) in ipaddress.ip_network(policy, strict=False)
    except ValueError:
        raise ev.fail(f"{value!r} / {policy!r}: not an IP address / CIDR") from None


# Lower-case operator name -> (the positive comparison of one context value with one policy value, negated?).
_OPERATORS: dict[str, tuple[_Compare, bool]] = {
    "stringequals": (_string(), False),
    "stringnotequals": (_string(), True),
    "stringequalsignorecase": (_string(ignore_case=True), False),
    "stringnotequalsignorecase": (_string(ignore_case=True), True),
    "stringlike": (_string(wild=True), False),
    "stringnotlike": (_string(wild=True), True),
    "bool": (_bool, False),
    "ipaddress": (_ip, False),
    "notipaddress": (_ip, True),
    **{name: (_string(wild=True, arn=True), False) for name in ("arnequals", "arnlike")},
    **{name: (_string(wild=True, arn=True), True) for name in ("arnnotequals", "arnnotlike")},
}
_ORDER = (("equals", operator.eq), ("lessthan", operator.lt), ("lessthanequals", operator.le))
for _family, _parse in (("numeric", _number), ("date", _date)):  # NumericEquals ... DateGreaterThanEquals
    for _name, _op in (*_ORDER, ("greaterthan", operator.gt), ("greaterthanequals", operator.ge)):
        _OPERATORS[_family + _name] = (_ordered(_parse, _op), False)
    _OPERATORS[_family + "notequals"] = (_ordered(_parse, operator.eq), True)


def _condition(operator_name: str, key: str, raw_values: object, ev: _Eval) -> bool:
    """One key under one operator, per reference_policies_elements_condition_operators.md (missing keys: false, but
    true for negated operators and ...IfExists; Null tests presence) and reference_policies_multi-value-conditions.md
    (ForAllValues: every context value matches, true for a missing key or empty list; ForAnyValue: one does)."""
    name = operator_name.lower()
    qualifier = next((q for q in _QUALIFIERS if name.startswith(q)), "")
    name = name.removeprefix(qualifier)
    if_exists = name.endswith("ifexists")
    name = name.removesuffix("ifexists")
    if (name not in _OPERATORS and name != "null") or (name == "null" and (if_exists or qualifier)):
        raise ev.fail(f"unsupported condition operator {operator_name!r}")
    if not is_supported_key(key):
        raise ev.fail(f"condition key {key!r} (under {operator_name}) is not in SUPPORTED_CONDITION_KEYS")
    values = [_text(v, ev) for v in (raw_values if isinstance(raw_values, list) else [raw_values])]
    present = key.lower() in ev.context
    if name == "null":  # "true": the key is absent; "false": it is present
        return any(_boolean(value, ev) != present for value in values)
    compare, negated = _OPERATORS[name]
    if not present:
        if if_exists:
            return True
        return qualifier == "forallvalues:" if qualifier else negated
    value = ev.context[key.lower()]

    def matches(item: object) -> bool:
        return any(compare(item, policy, ev) for policy in values) != negated

    if qualifier:
        items = value if isinstance(value, list) else [] if value == "" else [value]  # "": a null data set
        return all(map(matches, items)) if qualifier == "forallvalues:" else any(map(matches, items))
    if isinstance(value, list):
        raise ev.fail(f"{key} has several values in the context: {operator_name} needs ForAllValues:/ForAnyValue:")
    return matches(value)


def _all(checks: Iterable[_Check]) -> bool:
    """AND: False as soon as one check is False, even if another raised Undecidable; else that Undecidable."""
    error: Undecidable | None = None
    for check in checks:
        try:
            if not check():
                return False
        except Undecidable as exc:
            error = error or exc
    if error is not None:
        raise error
    return True


def _not(check: _Check) -> bool:
    return not check()


def _any(checks: Iterable[_Check]) -> bool:
    """OR: True as soon as one check is True, even if another raised Undecidable; else that Undecidable."""
    return not _all(partial(_not, check) for check in checks)


def _element(statement: _Statement, name: str, ev: _Eval, match: Callable[[str], bool]) -> bool:
    """Action/NotAction or Resource/NotResource: the Not form matches what none of its entries match."""
    positive, negative = statement.get(name), statement.get("Not" + name)
    if (positive is None) == (negative is None):
        raise ev.fail(f"needs exactly one of {name} and Not{name}")
    hit = any(match(entry) for entry in _strings(positive if negative is None else negative, name, ev))
    return hit if negative is None else not hit


def _applies(statement: _Statement, request: Request, ev: _Eval, principal: _Check, needs_resource: bool) -> bool:
    literal = dataclasses.replace(ev, variables=False)

    def action(pattern: str) -> bool:
        return _matches(pattern, request.action, literal, wild=True, ignore_case=True)  # no variables in actions

    def resource(pattern: str) -> bool:
        return _matches(pattern, request.resource, ev, wild=True)

    checks: list[_Check] = [principal, partial(_element, statement, "Action", ev, action)]
    if needs_resource or "Resource" in statement or "NotResource" in statement:  # a trust policy may omit it
        checks.append(partial(_element, statement, "Resource", ev, resource))
    conditions = statement.get("Condition", {})
    if not isinstance(conditions, Mapping) or not all(isinstance(block, Mapping) for block in conditions.values()):
        raise ev.fail("Condition must map operators to {key: values}")
    checks += [
        partial(_condition, op, key, values, ev) for op, keys in conditions.items() for key, values in keys.items()
    ]
    return _all(checks)


def _statements(policy: Mapping[str, Any], context: Mapping[str, ContextValue]) -> Iterable[tuple[_Statement, _Eval]]:
    statements = policy.get("Statement")
    statements = [statements] if isinstance(statements, Mapping) else statements
    if not isinstance(statements, list) or not all(isinstance(s, Mapping) for s in statements):
        raise Undecidable(f"a policy's Statement must be a statement or a list of them: {statements!r}")
    variables = policy.get("Version") == VERSION_WITH_VARIABLES
    for index, statement in enumerate(statements):
        sid = statement.get("Sid")
        ev = _Eval(context, variables, f"statement Sid {sid!r}" if sid else f"statement #{index} (no Sid)")
        if statement.get("Effect") not in ("Allow", "Deny"):
            raise ev.fail(f"Effect must be Allow or Deny, not {statement.get('Effect')!r}")
        yield statement, ev


def _decide(checks: list[tuple[str, _Check]]) -> Decision:
    if _any(check for effect, check in checks if effect == "Deny"):
        return Decision.EXPLICIT_DENY
    if _any(check for effect, check in checks if effect == "Allow"):
        return Decision.ALLOWED
    return Decision.IMPLICIT_DENY


def _lowered(context: Mapping[str, ContextValue]) -> dict[str, ContextValue]:
    lowered = {key.lower(): value for key, value in context.items()}
    if len(lowered) != len(context):
        raise Undecidable(f"request context repeats a key in different cases: {sorted(context)}")
    return lowered


def evaluate(policies: Sequence[Mapping[str, Any]], request: Request) -> Decision:
    """Identity-based policies (already JSON-decoded dicts) of one principal: explicit Deny wins; else an Allow that
    matches (action, resource, every condition) allows; else implicit deny.

    Raises Undecidable for a policy without Statement, a statement whose Effect is not Allow/Deny or that has
    Principal/NotPrincipal (not in an identity-based policy); and, only when the decision depends on that statement,
    for a malformed element or value, an unsupported condition operator, or a condition key or policy variable
    outside SUPPORTED_CONDITION_KEYS."""
    context = _lowered(request.context)
    checks: list[tuple[str, _Check]] = []
    for policy in policies:
        for statement, ev in _statements(policy, context):
            if "Principal" in statement or "NotPrincipal" in statement:
                raise ev.fail("an identity-based policy has no Principal (reference_policies_elements_principal.md)")
            checks.append((statement["Effect"], partial(_applies, statement, request, ev, lambda: True, True)))
    return _decide(checks)


def evaluate_trust(policy: Mapping[str, Any], principal_arn: str, principal_account: str, request: Request) -> Decision:
    """A resource-based policy (e.g. a role's trust policy) for a request by an IAM role principal.
    principal_arn is the ROLE's ARN (arn:aws:iam::123456789012:role/path/name) — the session's role.

    A statement applies to the role when its Principal is "*" or {"AWS": "*"}, or its AWS principals hold the role's
    ARN, its account's root ARN (arn:aws:iam::<account>:root) or its bare account ID; Service, Federated and
    CanonicalUser principals never match a role (reference_policies_elements_principal.md). Then action, resource
    (a statement without Resource matches any) and conditions as in `evaluate`, and an explicit Deny wins.
    aws:PrincipalArn and aws:PrincipalAccount are taken from the arguments when the context lacks them.

    This is the resource policy's decision only. For a cross-account AssumeRole the caller must ALSO pass
    `evaluate` of its own identity policies, and a principal naming an account delegates to that account's
    identity policies (reference_policies_evaluation-logic-cross-account.md, reference_policies_elements_principal.md
    "AWS account principals"): combining is the caller's job.

    Raises ValueError if principal_arn is not a role ARN in principal_account. Raises Undecidable for a statement
    without Principal or with NotPrincipal (its meaning for a role session depends on the session's ARN,
    reference_policies_elements_notprincipal.md), an AWS principal with a wildcard or naming an assumed-role session
    (only the role is known here), and for everything `evaluate` raises for."""
    role = _ROLE_ARN.fullmatch(principal_arn)
    if role is None or role["account"] != principal_account:
        raise ValueError(f"{principal_arn!r} is not the ARN of a role in account {principal_account!r}")
    context = _lowered(request.context)
    for key, value in (("aws:principalarn", principal_arn), ("aws:principalaccount", principal_account)):
        if context.setdefault(key, value) != value:
            raise Undecidable(f"request context {key}={context[key]!r} contradicts the principal {value!r}")
    own = ("*", principal_arn, principal_account, f"arn:{role['partition']}:iam::{principal_account}:root")

    def principal_matches(principal: object, ev: _Eval) -> bool:
        if principal == "*":
            return True
        if not isinstance(principal, Mapping) or any(k not in ("AWS", *_NO_ROLE_PRINCIPALS) for k in principal):
            raise ev.fail(f"unsupported Principal {principal!r}")
        entries = _strings(principal.get("AWS", []), "Principal AWS", ev)
        if any(entry in own for entry in entries):
            return True
        unknowable = [entry for entry in entries if "*" in entry or ":assumed-role/" in entry]
        if unknowable:
            raise ev.fail(f"principal {unknowable[0]!r} cannot be compared with a role ARN")
        return False

    checks: list[tuple[str, _Check]] = []
    for statement, ev in _statements(policy, context):
        if "NotPrincipal" in statement or "Principal" not in statement:
            raise ev.fail("a trust policy statement needs Principal (NotPrincipal is not supported)")
        principal = partial(principal_matches, statement["Principal"], ev)
        checks.append((statement["Effect"], partial(_applies, statement, request, ev, principal, False)))
    return _decide(checks)
