"""Where each name's DNS-01 record goes: the longest matching zone among every zone we may use (our account's,
and those reached by assuming a DNS account's role), after following `_acme-challenge` CNAMEs (delegation).

A CNAME is read from the zone that holds the name when we may read it, else from DNS itself: the usual delegation
is from a domain whose DNS is elsewhere (another provider, on premises) to a validation zone in Route 53.

Explicit mappings win over lookups: an account's `hosted-zones` (our account) and `dns-zones` entries with a
`hosted-zone-id`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from certlib.adapters.route53 import ZoneAccess, longest_suffix, normalize
from certlib.config import AccountConfig, Config
from certlib.exceptions import ZoneNotFound
from certlib.runtime import Services

MAX_CNAME_HOPS = 8
CHALLENGE_LABEL = "_acme-challenge."


@dataclass(frozen=True)
class KnownZone:
    name: str
    access: ZoneAccess
    explicit: bool = False


class ZoneDirectory:
    def __init__(self, services: Services, config: Config, account: AccountConfig) -> None:
        self._services = services
        self._config = config
        self._account = account

    @cached_property
    def zones(self) -> list[KnownZone]:
        """Our account's public zones, each role's zones under its suffixes, private ones only where asked."""
        private_ok = {suffix for suffix, zone in self._config.dns_zones.items() if zone.private}
        found: list[KnownZone] = []
        for hosted in self._services.route53.hosted_zones():
            if not hosted.private or longest_suffix(hosted.name, private_ok):
                found.append(KnownZone(hosted.name, ZoneAccess(hosted.zone_id)))
        roles = {(z.role_arn, z.external_id) for z in self._config.dns_zones.values() if z.role_arn}
        for role_arn, external_id in sorted(roles, key=str):
            suffixes = [s for s, z in self._config.dns_zones.items() if z.access == (role_arn, external_id)]
            for hosted in self._services.route53_for(role_arn, external_id).hosted_zones():
                wanted = any(_within(hosted.name, s) or _within(s, hosted.name) for s in suffixes)
                if wanted and (not hosted.private or longest_suffix(hosted.name, private_ok)):
                    found.append(KnownZone(hosted.name, ZoneAccess(hosted.zone_id, role_arn, external_id)))
        for suffix, zone_id in self._account.hosted_zones.items():
            found.append(KnownZone(suffix, ZoneAccess(zone_id), explicit=True))
        for suffix, zone in self._config.dns_zones.items():
            if zone.hosted_zone_id:
                found.append(KnownZone(suffix, ZoneAccess(zone.hosted_zone_id, *zone.access), explicit=True))
        return found

    def zone_for(self, name: str) -> KnownZone | None:
        name = normalize(name)
        matching = [zone for zone in self.zones if name == zone.name or name.endswith("." + zone.name)]
        return max(matching, key=lambda zone: (len(zone.name), zone.explicit), default=None)

    def challenge_target(self, domain: str) -> dict[str, str | None]:
        """{record_name, zone_id, role_arn, external_id} of the domain's DNS-01 record, CNAMEs followed.

        Raises ZoneNotFound for a name (or a CNAME target) in no zone we may use and with no CNAME in DNS, or a CNAME
        loop; TransientError when DNS does not answer.
        """
        name = CHALLENGE_LABEL + normalize(domain.removeprefix("*."))
        visited = [name]
        for _ in range(MAX_CNAME_HOPS):
            zone = self.zone_for(name)
            if zone is None:
                target = self._services.public_dns.cname_at(name)
                if target is None:
                    raise ZoneNotFound(self._not_found(domain, name, visited))
            else:
                target = self._services.route53_for(*zone_role(zone)).cname_at(zone.access.zone_id, name)
                if target is None:
                    return {"record_name": name, **zone.access.to_dict()}
            if target in visited:
                chain = " -> ".join([*visited, target])
                raise ZoneNotFound(f"the DNS-01 record of {domain!r} is delegated in a CNAME loop: {chain}")
            visited.append(target)
            name = target
        raise ZoneNotFound(f"the DNS-01 record of {domain!r} follows more than {MAX_CNAME_HOPS} CNAMEs: {visited}")

    def _not_found(self, domain: str, name: str, visited: list[str]) -> str:
        known = ", ".join(sorted({zone.name for zone in self.zones})) or "none"
        if len(visited) > 1:
            return (
                f"the DNS-01 record of {domain!r} is delegated by CNAME to {name!r}, which is in no hosted zone we "
                f"may use (zones: {known}); add the target's zone, or its DNS account's role under 'dns-zones'"
            )
        return (
            f"no Route 53 hosted zone we may use holds {domain!r} (zones: {known}), and DNS has no CNAME at {name!r}; "
            f"create the zone, map the name with 'hosted-zones', give the DNS account's role under 'dns-zones', or "
            f"delegate {name!r} by CNAME to a name in one of those zones"
        )


def _within(name: str, suffix: str) -> bool:
    return name == suffix or name.endswith("." + suffix)


def zone_role(zone: KnownZone) -> tuple[str | None, str | None]:
    return zone.access.role_arn, zone.access.external_id
