"""The CDK app: one CertificateStack per account and region, composed from the constructs in `stacks.constructs`."""
