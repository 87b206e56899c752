"""moto 5.2.5 (pinned) parses a state machine's ASL anew each time it needs it; the sandbox parses each definition once.

moto's Step Functions interpreter (its copy of LocalStack's, moto.stepfunctions.parser) calls
`AmazonStateLanguageParser.parse` on CreateStateMachine and UpdateStateMachine (the definition's validation), on
every StartExecution (the execution's worker builds its program) and in its static analysers
(`VariableReferencesStaticAnalyser`, for a DescribeStateMachine of the parser's own state machine classes). Each call
runs ANTLR's lexer and parser over the whole text, then the preprocessor that turns the parse tree into evaluation
components. For the certificate lifecycle (28 kB) the ANTLR part took 0.2-1.2 s and the preprocessor 17-25 ms (most
of it ANTLR's getText, for error messages built before there is an error), at every StartExecution.

What is kept, per distinct definition: the parse tree (ANTLR's result, which the analysers only read) and the program
the preprocessor built from it, as a pickle, before any execution used it. Each parse returns a new program unpickled
from that: its own evaluation components, as moto's own parse gives, in 2-3 ms. They must not be shared: they are not
all read-only during an execution (`EvalComponent.heap_key`, the key of a Retry's attempt counter in the execution's
heap, is assigned on first use, and a Pass state's `Result` and literal values are handed to the execution by
reference). A program holds only components, enumeration members, lists, dicts, strings and numbers; one that would
not pickle is built by the preprocessor again each time, as before.
(`TestStateAmazonStateLanguageParser`, the TestState API's, parses with its own method: moto 5.2.5 serves no
TestState, so it is left as it is.)
"""

from __future__ import annotations

import functools
import pickle
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from unittest import mock

from moto.stepfunctions.parser.asl.antlr.runtime.ASLParser import ASLParser
from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

# Distinct definitions kept (least recently used dropped): the sandbox has three state machines; tests make more.
DEFINITIONS_KEPT = 64

_original_parse = AmazonStateLanguageParser.parse


@dataclass(frozen=True)
class ParsedDefinition:
    tree: ASLParser.State_machineContext
    program: bytes | None  # the pickled program; None when it would not pickle

    def new_program(self) -> EvalComponent:
        """A program no one else holds."""
        if self.program is None:
            built: EvalComponent = Preprocessor().visit(self.tree)
            return built
        unpickled: EvalComponent = pickle.loads(self.program)  # noqa: S301 - bytes this process pickled, of its own program
        return unpickled


@functools.lru_cache(maxsize=DEFINITIONS_KEPT)
def parsed(definition: str) -> ParsedDefinition:
    """The parse tree and the program of an ASL definition, made once per distinct text.

    Raises moto's ASLParserException for a syntax error, or what its preprocessor raises for a definition it cannot
    build (InvalidDefinition to the caller of CreateStateMachine): neither is kept, so the next call raises again.
    """
    program, tree = _original_parse(definition)
    try:
        kept: bytes | None = pickle.dumps(program, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError):  # a component holding a function or a lock
        kept = None
    return ParsedDefinition(tree, kept)


def parse_with_kept_tree(definition: str) -> tuple[EvalComponent, ASLParser.State_machineContext]:
    """`AmazonStateLanguageParser.parse` from what is kept: new evaluation components each call, as moto's.

    Raises what `parsed` raises.
    """
    kept = parsed(definition)
    return kept.new_program(), kept.tree


@contextmanager
def asl_parsed_once() -> Iterator[None]:
    """In-process moto (mock_aws) parsing each definition once, as the sandbox's server does."""
    with mock.patch.object(AmazonStateLanguageParser, "parse", staticmethod(parse_with_kept_tree)):
        yield


def apply_asl_parse_cache() -> None:
    """Parse each definition once, for this whole process (idempotent)."""
    AmazonStateLanguageParser.parse = staticmethod(parse_with_kept_tree)  # type: ignore[method-assign]
