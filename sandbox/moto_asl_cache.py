"""moto 5.2.5 (pinned) parses a state machine's ASL anew each time it needs it; the sandbox parses each definition once.

moto's Step Functions interpreter (its copy of LocalStack's, moto.stepfunctions.parser) calls
`AmazonStateLanguageParser.parse` on CreateStateMachine and UpdateStateMachine (the definition's validation), on
every StartExecution (the execution's worker builds its program) and in its static analysers
(`VariableReferencesStaticAnalyser`, for a DescribeStateMachine of the parser's own state machine classes). Each call
runs ANTLR's lexer and parser over the whole text, then the preprocessor that turns the parse tree into evaluation
components. For the certificate lifecycle (28 kB) the ANTLR part is most of the cost of a StartExecution.

What is kept is only the parse tree: ANTLR's result, which the preprocessor and the analysers only read. The
components are built again for every parse, because they are not all read-only during an execution:
`EvalComponent.heap_key` (the key of a Retry's attempt counter in the execution's heap) is assigned on first use, and
a Pass state's `Result` and literal values are handed to the execution by reference. Two executions never share one.

Each node of a kept tree makes its text once (`keep_texts`). The preprocessor asks nodes for their text again and
again, mostly for error messages it builds before it knows there is an error (`visitProgram_decl` asks for the whole
program's, twice), and ANTLR makes that text anew each time from every token under the node: that was half of the
preprocessor's time (24 ms of every lifecycle StartExecution; issue 16, the sweep).
(`TestStateAmazonStateLanguageParser`, the TestState API's, parses with its own method: moto 5.2.5 serves no
TestState, so it is left as it is.)
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

from antlr4 import ParserRuleContext
from antlr4.tree.Tree import TerminalNode
from moto.stepfunctions.parser.asl.antlr.runtime.ASLParser import ASLParser
from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

# Distinct definitions kept (least recently used dropped): the sandbox has three state machines; tests make more.
DEFINITIONS_KEPT = 64

_original_parse = AmazonStateLanguageParser.parse


@functools.lru_cache(maxsize=DEFINITIONS_KEPT)
def parse_tree(definition: str) -> ASLParser.State_machineContext:
    """The ANTLR parse tree of an ASL definition, made once per distinct text.

    Raises moto's ASLParserException for a syntax error, or what its preprocessor raises for a definition it cannot
    build (InvalidDefinition to the caller of CreateStateMachine): neither is kept, so the next call raises again.
    """
    tree: ASLParser.State_machineContext = _original_parse(definition)[1]
    keep_texts(tree)
    return tree


def keep_texts(tree: ParserRuleContext) -> None:
    """Make each node's `getText()` (and each token's `text`) answer a string made once, as ANTLR's would: the
    concatenation of its children's texts. Only for a tree nothing changes any more (a kept one)."""
    nodes: list[ParserRuleContext] = []
    unvisited = [tree]
    while unvisited:  # depth first, without recursion: a deep definition must not reach Python's recursion limit
        node = unvisited.pop()
        nodes.append(node)
        unvisited.extend(child for child in node.getChildren() if isinstance(child, ParserRuleContext))
    for node in reversed(nodes):  # each node after every node under it
        for child in node.getChildren():
            if isinstance(child, TerminalNode):
                child.symbol.text = child.symbol.text  # CommonToken keeps a text set on it
        text = "".join(child.getText() for child in node.getChildren())
        node.getText = functools.partial(str, text)


def parse_with_kept_tree(definition: str) -> tuple[EvalComponent, ASLParser.State_machineContext]:
    """`AmazonStateLanguageParser.parse` from the kept parse tree: new evaluation components each call, as moto's.

    Raises what `parse_tree` raises.
    """
    tree = parse_tree(definition)
    return Preprocessor().visit(tree), tree


@contextmanager
def asl_parsed_once() -> Iterator[None]:
    """In-process moto (mock_aws) parsing each definition once, as the sandbox's server does."""
    with mock.patch.object(AmazonStateLanguageParser, "parse", staticmethod(parse_with_kept_tree)):
        yield


def apply_asl_parse_cache() -> None:
    """Parse each definition once, for this whole process (idempotent)."""
    AmazonStateLanguageParser.parse = staticmethod(parse_with_kept_tree)  # type: ignore[method-assign]
