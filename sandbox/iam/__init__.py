"""IAM as AWS evaluates it, in the sandbox: policies from the synthesized template, and every request signed with a
role's credentials authorized before moto acts on it (see sandbox.iam.enforcement)."""
