"""Certificates onto servers through SSM Run Command: targets, the command, its outcome, and ACM's exportable
certificates (exported, stored, and sent out again after each of ACM's renewals). See docs/distribution.md."""
