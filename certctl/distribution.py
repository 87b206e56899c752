"""Distribution profiles on the command line: `--distribution-profile` of `issue` and `export`, and

    certctl migrate-distribution [--apply] [--json]

which moves inventory items written before profiles (their targets, paths and commands inline, which the pipeline
no longer runs) to the deployed profile that does exactly the same for them. Without --apply it only reports; an
item no deployed profile matches gets the profile to add to the accounts file (deploy it, then run this again).
Exit 0 when nothing is left to migrate, 1 otherwise.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from certctl.aws import Target
from certctl.migration import add_migration_parser, finish_migration
from certlib.distribution.spec import FILES, NAME_PLACEHOLDER, DistributionProfile
from certlib.exceptions import InvalidRequest


def add_distribution_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--distribution-profile",
        metavar="NAME",
        help="send it to servers as this distribution profile of the deployed configuration says (left out: keep the "
        "certificate's)",
    )
    group.add_argument("--no-distribution", action="store_true", help="stop sending it to servers")


def distribution_choice(args: argparse.Namespace) -> dict[str, str] | None:
    """The input's `distribution`: {"profile": NAME}, {} to stop, None to keep what the inventory has."""
    if args.no_distribution:
        return {}
    if args.distribution_profile is not None:
        return {"profile": args.distribution_profile}
    return None


def add_migrate_parser(commands: Any) -> None:
    add_migration_parser(
        commands,
        "migrate-distribution",
        summary="move certificates with an inline distribution (from before profiles) to the matching deployed profile",
        apply_help="record the matching profile on each item",
    )


def run_migrate(target: Target, args: argparse.Namespace) -> int:
    profiles = target.config().distribution_profiles
    now = dt.datetime.now(dt.UTC).timestamp()
    report: dict[str, Any] = {"migrated": [], "matching": [], "unmatched": [], "in_progress": []}
    suggestions: dict[str, dict[str, Any]] = {}
    for item in target.inventory.all():
        recorded = item.get("distribution")
        if not isinstance(recorded, Mapping) or set(recorded) == {"profile"}:
            continue
        name = str(item["name"])
        inline = inline_profile(recorded)
        match = next((p.name for p in profiles.values() if same_distribution(p, inline, name)), None)
        if match is None:
            suggestion = suggested_profile(inline, name)
            suggestions.setdefault(suggestion_name(suggestion, suggestions, set(profiles)), suggestion)
            report["unmatched"].append(name)
        elif int(item.get("lock_expires_at") or 0) > now:
            report["in_progress"].append(name)
        elif args.apply:
            target.inventory.update(
                name,
                None,
                {"distribution": {"profile": match}},
                event={"event": "distribution_migrated", "profile": match},
            )
            report["migrated"].append({"name": name, "profile": match})
        else:
            report["matching"].append({"name": name, "profile": match})
    if suggestions:
        import yaml  # here: only this command writes YAML, and the others start faster without it

        report["add_to_accounts_file"] = yaml.safe_dump({"distribution-profiles": suggestions}, sort_keys=False)
    left = bool(report["unmatched"] or report["in_progress"] or report["matching"])
    return finish_migration(args, report, lambda: _print(report, args.apply), left)


def inline_profile(recorded: Mapping[str, Any]) -> DistributionProfile:
    """An inline distribution as the pipeline recorded it before profiles (DistributionSpec.to_dict)."""
    fields = {f.name for f in dataclasses.fields(DistributionProfile)} - {"name"}
    return DistributionProfile.from_dict({"name": "inline", **{k: v for k, v in recorded.items() if k in fields}})


def same_distribution(profile: DistributionProfile, inline: DistributionProfile, certificate: str) -> bool:
    """Whether the profile, for this certificate, sends the same files to the same nodes with the same hooks."""
    try:
        resolved = profile.for_certificate(certificate)
    except InvalidRequest:
        return False
    return dataclasses.replace(resolved, name=inline.name) == inline


def suggested_profile(inline: DistributionProfile, certificate: str) -> dict[str, Any]:
    """The accounts file's entry that does what the inline distribution did ({name} where the paths hold the
    certificate's name)."""
    entry: dict[str, Any] = {"tags": inline.tags} if inline.tags else {"instance-ids": inline.instance_ids}
    for key in FILES:
        entry[key.replace("_", "-")] = re.sub(
            rf"(?<=/){re.escape(certificate)}(?=/|$)", NAME_PLACEHOLDER, getattr(inline, key)
        )
    entry["owner"] = inline.owner
    for key in ("check_command", "reload_command"):
        if getattr(inline, key):
            entry[key.replace("_", "-")] = getattr(inline, key)
    entry["access-group"] = inline.access_group
    return entry


def suggestion_name(suggestion: dict[str, Any], taken: Mapping[str, dict[str, Any]], deployed: set[str]) -> str:
    """The access group as the profile's name, with a number added when a deployed profile or another suggestion
    has that name already."""
    base = re.sub(r"[^A-Za-z0-9_.-]", "-", str(suggestion["access-group"]))[:60] or "profile"
    name, number = base, 2
    while name in deployed or (name in taken and taken[name] != suggestion):
        name, number = f"{base}-{number}", number + 1
    return name


def _print(report: dict[str, Any], applied: bool) -> None:
    for entry in report["migrated"]:
        print(f"{entry['name']}: now distributed with profile {entry['profile']!r}")
    for entry in report["matching"]:
        print(f"{entry['name']}: matches profile {entry['profile']!r} (run again with --apply to record it)")
    for name in report["in_progress"]:
        print(f"{name}: an execution holds it now; run this again when it has ended")
    for name in report["unmatched"]:
        print(f"{name}: no deployed profile does what its inline distribution did")
    if report.get("add_to_accounts_file"):
        print("\nAdd these profiles to the accounts file, deploy, then run this again:\n")
        print(report["add_to_accounts_file"])
    if not any(report[key] for key in ("migrated", "matching", "in_progress", "unmatched")):
        print("nothing to migrate: every certificate names a distribution profile (or has none)")
    elif applied and not (report["unmatched"] or report["in_progress"]):
        print("done: no inline distribution is left")
