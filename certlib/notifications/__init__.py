"""Our events (EventBridge) and notifications (SNS): what they say, and what an operator should do about a failure.

Every outcome becomes one event with source `acme.certificates` on the deployment's bus:

    Certificate Issued                a first certificate for a name is in ACM
    Certificate Renewed               a new certificate replaced the one in ACM (same ARN)
    Certificate Issuance Failed       an execution to issue a first certificate for a name failed
    Certificate Renewal Failed        an execution to renew a certificate failed
    Certificate Revoked               a certificate was revoked (by `certctl revoke`, or found revoked)
    Certificate Distribution Failed   pushing a certificate to servers (SSM) failed
    Certificate Replacement Accepted  a request with "replace": true changes a certificate's domains or ACME account

The failures, the revocations and the accepted replacements are also published to the SNS topic, as a message people
read: a subject naming the certificate, and a body with what happened (for a failure: the step, the error, the CA's
problem and what to do). docs/events.md documents
the detail of each type, and docs/event-schema.json is its JSON Schema. No event carries key material: details are
built from names, serials, dates and ARNs, and any PEM block in an error message is cut out.

Delivery is at least once: a step that is retried after emitting may emit again. `event_id` is the same for the
same outcome of the same execution, so a consumer can drop duplicates.
"""
