"""Deploy-time code: what the CDK stacks (stacks/) and the sandbox (sandbox/) build from, never shipped in the layer.

The Lambda code (certlib/, functions/) never imports this package; the names both sides share (functions, environment
variables, resource names, tags) live in certlib.resources. tests/unit/test_handler_imports.py pins that.
"""
