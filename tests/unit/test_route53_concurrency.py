"""TXT writes under concurrency: two executions writing one name (two certificates sharing it) keep each other's
values, with Route 53's atomic change batches as optimistic concurrency (certlib.adapters.route53); and the sandbox's
moto refuses the batches Route 53 refuses (sandbox.moto_fixes), without which the race would go unseen."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from certlib.adapters.aws_errors import AwsError
from certlib.adapters.route53 import MAX_WRITE_ATTEMPTS, Route53, quote_txt, unquote_txt
from certlib.exceptions import TransientError
from sandbox.moto_fixes import route53_as_aws

NAME = "_acme-challenge.shared.example.test"


def new_client() -> Any:
    return boto3.client("route53", region_name="us-east-1")


@pytest.fixture
def zone() -> Iterator[str]:
    """A hosted zone in moto as the sandbox runs it (its change batches fixed as Route 53 behaves)."""
    with (
        mock_aws(),
        route53_as_aws(),
    ):
        created = new_client().create_hosted_zone(Name="example.test", CallerReference="example.test")
        yield created["HostedZone"]["Id"].rsplit("/", 1)[-1]


def txt_at(zone_id: str, name: str = NAME) -> list[str]:
    records = new_client().list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    return sorted(
        unquote_txt(r["Value"])
        for record in records
        if record["Type"] == "TXT" and record["Name"].rstrip(".") == name
        for r in record["ResourceRecords"]
    )


def txt_sets_at(zone_id: str, name: str = NAME) -> int:
    records = new_client().list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    return sum(1 for record in records if record["Type"] == "TXT" and record["Name"].rstrip(".") == name)


def change(action: str, values: list[str], name: str = NAME, ttl: int = 60) -> dict[str, Any]:
    return {
        "Action": action,
        "ResourceRecordSet": {
            "Name": name,
            "Type": "TXT",
            "TTL": ttl,
            "ResourceRecords": [{"Value": quote_txt(value)} for value in values],
        },
    }


def submit(zone_id: str, *changes: dict[str, Any]) -> None:
    new_client().change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": list(changes)})


def adapter_with_rival(rival: Callable[[int], None]) -> tuple[Route53, list[int]]:
    """Our adapter, with `rival(n)` (another writer) run right before each change batch it sends: between its read
    and its write, the window the race lives in. Returns the adapter and the rounds run (one per batch sent)."""
    rounds: list[int] = []

    def before_change(**_: Any) -> None:
        rounds.append(len(rounds))
        rival(rounds[-1])

    client = new_client()
    client.meta.events.register("before-call.route53.ChangeResourceRecordSets", before_change)
    return Route53(client), rounds


def first_time(write: Callable[[], object]) -> Callable[[int], None]:
    def rival(round_number: int) -> None:
        if round_number == 0:
            write()

    return rival


# --- the sandbox's moto, as Route 53 ----------------------------------------------------------------------------------
def test_moto_as_shipped_hides_the_race() -> None:
    # Given moto without the sandbox's fix, and a TXT record set that was replaced since a writer read it
    with mock_aws():
        zone_id = new_client().create_hosted_zone(Name="example.test", CallerReference="x")["HostedZone"]["Id"]
        submit(zone_id, change("CREATE", ["first"]))
        submit(zone_id, change("DELETE", ["first"]), change("CREATE", ["first", "second"]))

        # When that writer deletes the values it read, and another CREATEs the name as if it were free
        submit(zone_id, change("DELETE", ["first"]))
        deleted = txt_at(zone_id)
        submit(zone_id, change("CREATE", ["third"]))
        submit(zone_id, change("CREATE", ["fourth"]))

        # Then moto took all three (Route 53 refuses each): a conditional write would not be conditional there
        assert deleted == []
        assert txt_sets_at(zone_id) == 2


def test_create_of_an_existing_record_set_is_refused_and_nothing_of_the_batch_applied(zone: str) -> None:
    # Given a TXT record set at a name
    submit(zone, change("CREATE", ["theirs"]))

    # When a batch creates another name and the existing one
    other = "_acme-challenge.other.example.test"
    with pytest.raises(ClientError) as refused:
        submit(zone, change("CREATE", ["new"], name=other), change("CREATE", ["ours"]))

    # Then Route 53's refusal, and nothing of the batch was applied
    assert refused.value.response["Error"]["Code"] == "InvalidChangeBatch"
    assert f"[name='{NAME}.', type='TXT'] but it already exists" in refused.value.response["Error"]["Message"]
    assert txt_at(zone) == ["theirs"]
    assert txt_at(zone, other) == []
    assert txt_sets_at(zone) == 1


@pytest.mark.parametrize(
    ("deleted", "ttl", "reason"),
    [
        (["theirs"], 60, "but the values provided do not match the current values"),
        (["theirs", "ours", "more"], 60, "but the values provided do not match the current values"),
        (["theirs", "ours"], 300, "but the values provided do not match the current values"),
    ],
)
def test_delete_with_values_that_differ_is_refused(zone: str, deleted: list[str], ttl: int, reason: str) -> None:
    # Given a TXT record set with two values
    submit(zone, change("CREATE", ["theirs", "ours"]))

    # When a batch deletes it with other values (or another TTL)
    with pytest.raises(ClientError) as refused:
        submit(zone, change("DELETE", deleted, ttl=ttl))

    # Then it is refused and the record set stays as it was
    assert refused.value.response["Error"]["Code"] == "InvalidChangeBatch"
    assert reason in refused.value.response["Error"]["Message"]
    assert txt_at(zone) == ["ours", "theirs"]


def test_delete_of_a_missing_record_set_is_refused(zone: str) -> None:
    # Given no TXT record set at the name
    # When a batch deletes one there
    with pytest.raises(ClientError) as refused:
        submit(zone, change("DELETE", ["ours"]))

    # Then Route 53's refusal
    assert refused.value.response["Error"]["Code"] == "InvalidChangeBatch"
    assert "but it was not found" in refused.value.response["Error"]["Message"]


def test_delete_and_create_in_one_batch_replace_the_values(zone: str) -> None:
    # Given a TXT record set
    submit(zone, change("CREATE", ["theirs"]))

    # When one batch deletes exactly it and creates the merged set (in mixed case, with a trailing dot)
    submit(zone, change("DELETE", ["theirs"], name=NAME.upper() + "."), change("CREATE", ["theirs", "ours"]))

    # Then the name holds one record set with both values
    assert txt_at(zone) == ["ours", "theirs"]
    assert txt_sets_at(zone) == 1


# --- the adapter's conditional writes ------------------------------------------------------------------------------
def test_a_value_created_between_our_read_and_our_create_is_kept(zone: str) -> None:
    # Given no record at the name, and another execution that creates it right after we read it
    rival = Route53(new_client())
    adapter, rounds = adapter_with_rival(first_time(lambda: rival.add_txt_values(zone, {NAME: ["theirs"]})))

    # When we publish our value
    change_id = adapter.add_txt_values(zone, {NAME: ["ours"]})

    # Then our CREATE lost, the batch was rebuilt from what is there now, and both values are published
    assert change_id is not None
    assert len(rounds) == 2
    assert txt_at(zone) == ["ours", "theirs"]
    assert txt_sets_at(zone) == 1


def test_a_value_added_between_our_read_and_our_replacement_is_kept(zone: str) -> None:
    # Given a record with a value, and another execution that adds its own right after we read it
    submit(zone, change("CREATE", ["old"]))
    rival = Route53(new_client())
    adapter, rounds = adapter_with_rival(first_time(lambda: rival.add_txt_values(zone, {NAME: ["theirs"]})))

    # When we publish our value
    adapter.add_txt_values(zone, {NAME: ["ours"]})

    # Then nothing was lost
    assert len(rounds) == 2
    assert txt_at(zone) == ["old", "ours", "theirs"]


def test_a_removal_keeps_a_value_added_between_our_read_and_our_write(zone: str) -> None:
    # Given our value and another's, and a third execution that adds its value right after we read them
    submit(zone, change("CREATE", ["ours", "theirs"]))
    rival = Route53(new_client())
    adapter, _ = adapter_with_rival(first_time(lambda: rival.add_txt_values(zone, {NAME: ["late"]})))

    # When we remove ours
    adapter.remove_txt_values(zone, {NAME: ["ours"]})

    # Then exactly ours went, and the late value stays
    assert txt_at(zone) == ["late", "theirs"]


def test_a_removal_keeps_a_value_published_after_our_read_of_the_last_value(zone: str) -> None:
    # Given only our value, and another execution that publishes its own right after we read ours
    submit(zone, change("CREATE", ["ours"]))
    rival = Route53(new_client())
    adapter, _ = adapter_with_rival(first_time(lambda: rival.add_txt_values(zone, {NAME: ["theirs"]})))

    # When we remove ours (which alone would delete the record set)
    adapter.remove_txt_values(zone, {NAME: ["ours"]})

    # Then theirs stays
    assert txt_at(zone) == ["theirs"]


def test_a_writer_that_keeps_losing_raises_the_retryable_error(zone: str) -> None:
    # Given another writer that changes the name before every batch we send
    rival = Route53(new_client())
    adapter, rounds = adapter_with_rival(lambda n: rival.add_txt_values(zone, {NAME: [f"theirs-{n}"]}) and None)

    # When we publish
    with pytest.raises(TransientError, match=f"another writer changed the TXT records of {NAME}.*{MAX_WRITE_ATTEMPTS}"):
        adapter.add_txt_values(zone, {NAME: ["ours"]})

    # Then we sent the batch built without a read, then MAX_WRITE_ATTEMPTS built from reads, and none of their
    # values was lost
    assert len(rounds) == 1 + MAX_WRITE_ATTEMPTS
    assert txt_at(zone) == sorted(f"theirs-{n}" for n in range(1 + MAX_WRITE_ATTEMPTS))


def test_a_refusal_that_is_not_a_race_is_not_retried(zone: str) -> None:
    # Given a name outside the zone
    adapter, rounds = adapter_with_rival(lambda n: None)

    # When we publish there / Then the refusal is terminal, after one batch
    with pytest.raises(AwsError, match="InvalidChangeBatch"):
        adapter.add_txt_values(zone, {"_acme-challenge.elsewhere.test": ["ours"]})
    assert len(rounds) == 1


def test_concurrent_writers_of_one_name_lose_no_value(zone: str) -> None:
    # Given as many executions as a batch may be retried, each with its value for one name
    values = [f"value-{n}" for n in range(MAX_WRITE_ATTEMPTS)]
    adapters = [Route53(new_client()) for _ in values]

    # When they all publish at the same time
    errors = all_at_once(
        [
            lambda a=adapter, v=value: a.add_txt_values(zone, {NAME: [v]})
            for adapter, value in zip(adapters, values, strict=True)
        ]
    )

    # Then every value is there, in one record set
    assert errors == []
    assert txt_at(zone) == sorted(values)
    assert txt_sets_at(zone) == 1

    # And when each removes its own at the same time, nothing is left over
    errors = all_at_once(
        [
            lambda a=adapter, v=value: a.remove_txt_values(zone, {NAME: [v]})
            for adapter, value in zip(adapters, values, strict=True)
        ]
    )
    assert errors == []
    assert txt_at(zone) == []


def all_at_once(calls: list[Callable[[], object]]) -> list[BaseException]:
    """Run each call in its own thread, all released together; returns what they raised."""
    barrier = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def run(call: Callable[[], object]) -> None:
        barrier.wait()
        try:
            call()
        except Exception as exc:  # reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors
