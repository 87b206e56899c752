"""Faults a test injects into the running sandbox from outside, and a record of every call the functions make.

The switch is a JSON file in the state directory (`faults.json`, path in sandbox.json as `faults_file`), read
again whenever it changes:

    {
      "cold_start": "any text",   # a new value makes every function start cold (the configuration is re-read)
      "faults": [
        {"id": "reset-order", "at": "acme", "request": "newOrder", "fault": "reset", "certificate": "web"},
        {"id": "throttled", "at": "aws", "operation": "route53.ChangeResourceRecordSets", "fault": "error",
         "code": "Throttling", "times": 4, "certificate": "web", "step": "publish_challenges"},
        {"id": "crash", "at": "handler", "fault": "crash", "when": "after", "step": "create_order"}
      ]
    }

Every fault applies to the calls of one function invocation that match all its optional filters: `certificate`
(the name the invocation works on), `step`, `execution` (the execution ARN), `event_contains` (a text the
invocation's event holds, for steps whose event names no certificate), and it is used `times` times (default 1; 0:
every time). With `probability` (0 to 1) a matching call is hit only that often, drawn from a generator seeded with
the plan's `seed` (default 0) when the seed changes, so a run can be repeated (a soak: 5% of ACME requests). The
faults by place:

- `acme`: a request from the `acme` client to the CA, through the transport the functions' Services give their ACME
  sessions (`FaultInjector.acme_transport`, handed to sandbox.lambda_routing). `request` is the ACME resource
  (`newNonce`, `newAccount`, `newOrder`, `authorization`, `challenge`, `order`, `finalize`, `certificate`,
  `revokeCert`, `directory`); `as_get` (true or false) tells a POST-as-GET read from a POST with a payload.
  `fault`: `reset` (the connection is reset before the CA sees the request), `timeout` (the CA answers, the answer
  is lost: a read timeout), `status` (HTTP `status`, default 503, with an HTML body, or a problem document of type
  `problem` when given), `rate-limited` (429 `rateLimited` with `Retry-After: retry_after`), `clock-ahead` (on a
  `certificate` download: the CA's clock runs `seconds` (default 300) ahead, the certificate is not valid yet:
  sandbox.ca_clock).
- `aws`: an AWS API call a function makes, through botocore's `before-send` event (inside botocore's own retry
  loop, so its retries and backoff apply as with a real error). `operation` is `client.Operation`
  (`route53.ChangeResourceRecordSets`). `fault`: `error` (HTTP `status`, default 400, with error `code`),
  `respond` (HTTP `status`, default 200, with `body` as the service's answer), `unreachable` (the endpoint does not
  answer: botocore's EndpointConnectionError, as when the network to AWS is down), `crash-after` (the call is made,
  then the function crashes before it can record what it did).
- `handler`: the function itself. `fault`: `crash` (the runtime dies `when` = `before` or `after` the step's
  work; Step Functions sees `Runtime.ExitError`, and the container starts cold next time), `hold` (the invocation
  waits `when` = `before` or `after` its work while the fault is in the plan, at most `seconds` (default 300): an
  execution kept in one state, e.g. to be stopped there).

Every ACME request and AWS call made by a function is appended to `faults-log.jsonl` (`faults_log_file`): when,
which step, certificate and execution, what was called, its HTTP status, and the fault applied. Never a body,
a header or a parameter: only names, so the log holds no secret.

The package, by job: `plan` (the faults file, re-read when it changes, and the invocation a fault matches),
`call_log` (faults-log.jsonl), `acme` (the ACME transport's faults), `aws` (AWS faults through botocore's handlers),
`crashes` (handler crashes and holds, and the cold start a crash causes), `injector` (which invocation runs, and
`install`, which switches it all on).
"""
