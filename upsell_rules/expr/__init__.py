"""The condition language: parse, type-check, compile and interpret rule conditions.

Conditions are parsed into a small AST (never handed to Python's ``eval``), checked
against the ruleset's declared signals, and then either compiled to a fast Python
predicate (:mod:`upsell_rules.expr.codegen`) or interpreted with a trace for
``explain`` (:mod:`upsell_rules.expr.interpret`).
"""

from upsell_rules.expr.nodes import Node
from upsell_rules.expr.parser import ExprSyntaxError, parse

__all__ = ["ExprSyntaxError", "Node", "parse"]
