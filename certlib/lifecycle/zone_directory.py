"""Where each name's DNS-01 record goes: the longest matching zone among every zone we may use (our account's,
and those reached by assuming a DNS account's role), after following `_acme-challenge` CNAMEs (delegation).

A CNAME is asked of DNS, which answers as the CA will and costs no Route 53 call: most names have none, so finding
a name's record place usually reads nothing in Route 53 (issue 16: at most 3 Route 53 calls per zone per issuance).
Only when DNS reports a CNAME at a name in one of our zones is it read in that zone (one ListResourceRecordSets): DNS
also answers a wildcard's CNAME (`*.example.com CNAME lb.example.net`), which does not delegate `_acme-challenge`
(the exact TXT record we write there overrides it), so the zone's own record decides. A private zone (listed as
private, or under a `private` dns-zones suffix), which DNS outside its VPCs does not see, is read in Route 53 as
before. The usual delegation is from a domain whose DNS is elsewhere (another provider, on premises) to a validation
zone in Route 53. A CNAME's target must be in a zone configured for validation (one of the zones below); a target
anywhere else is refused.

Explicit mappings win over lookups: an account's `hosted-zones` (our account) and `dns-zones` entries with a
`hosted-zone-id`. When they name every zone of our account the deployment may write (the stack's hostedZoneIds and
validationZoneIds, which reach the functions as HOSTED_ZONE_IDS), our account's zones are not listed at all unless a
name is in none of them: listing could find no other zone a record may go to.

Everything here only reads: a DNS account's zones are listed and read through its read role. The challenge target
keeps the write role's ARN (`role_arn`), which the steps that write the record assume.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from certlib.adapters.route53 import Route53, ZoneAccess, normalize
from certlib.config import AccountConfig, Config
from certlib.exceptions import ZoneNotFound
from certlib.services import Services

MAX_CNAME_HOPS = 8
CHALLENGE_LABEL = "_acme-challenge."


@dataclass(frozen=True)
class KnownZone:
    name: str
    access: ZoneAccess
    explicit: bool = False
    private: bool = False  # DNS outside its VPCs does not see it: its CNAMEs are read in Route 53


class ZoneDirectory:
    def __init__(self, services: Services, config: Config, account: AccountConfig) -> None:
        self._services = services
        self._config = config
        self._account = account

    @cached_property
    def zones(self) -> list[KnownZone]:
        """Our account's public zones, each role's zones under its suffixes, private ones only where asked, and the
        explicit mappings."""
        return [*self._own_listed_zones, *self._role_listed_zones, *self._mapped_zones]

    @cached_property
    def _own_listed_zones(self) -> list[KnownZone]:
        """Our account's zones as ListHostedZones lists them: the public ones, private ones only where asked."""
        return [
            KnownZone(hosted.name, ZoneAccess(hosted.zone_id), private=hosted.private)
            for hosted in self._services.route53.hosted_zones()
            if not hosted.private or longest_suffix(hosted.name, self._private_suffixes)
        ]

    @cached_property
    def _role_listed_zones(self) -> list[KnownZone]:
        """Each DNS account's zones under (or above) its role's suffixes, listed through its read role."""
        found: list[KnownZone] = []
        roles = {(z.role_arn, z.external_id) for z in self._config.dns_zones.values() if z.role_arn}
        for role_arn, external_id in sorted(roles, key=str):
            suffixes = [s for s, z in self._config.dns_zones.items() if z.access == (role_arn, external_id)]
            for hosted in self._services.route53_for(role_arn, external_id, for_writing=False).hosted_zones():
                wanted = any(_within(hosted.name, s) or _within(s, hosted.name) for s in suffixes)
                if wanted and (not hosted.private or longest_suffix(hosted.name, self._private_suffixes)):
                    access = ZoneAccess(hosted.zone_id, role_arn, external_id)
                    found.append(KnownZone(hosted.name, access, private=hosted.private))
        return found

    @cached_property
    def _mapped_zones(self) -> list[KnownZone]:
        """The explicit mappings: the account's `hosted-zones` and the `dns-zones` entries with a `hosted-zone-id`."""
        found: list[KnownZone] = []
        for suffix, zone_id in self._account.hosted_zones.items():
            private = bool(longest_suffix(suffix, self._private_suffixes))
            found.append(KnownZone(suffix, ZoneAccess(zone_id), explicit=True, private=private))
        for suffix, zone in self._config.dns_zones.items():
            if zone.hosted_zone_id:
                private = bool(longest_suffix(suffix, self._private_suffixes))
                found.append(
                    KnownZone(suffix, ZoneAccess(zone.hosted_zone_id, *zone.access), explicit=True, private=private)
                )
        return found

    @cached_property
    def _private_suffixes(self) -> set[str]:
        return {suffix for suffix, zone in self._config.dns_zones.items() if zone.private}

    @cached_property
    def _own_zones_mapped(self) -> bool:
        """Whether the accounts file maps by name every zone of our account the deployment may write (its
        hostedZoneIds and validationZoneIds, Settings.hosted_zone_ids; none given: any zone, so not known)."""
        allowed = set(self._services.settings.hosted_zone_ids)
        own = {z.hosted_zone_id for z in self._config.dns_zones.values() if z.hosted_zone_id and not z.role_arn}
        return bool(allowed) and allowed <= {*self._account.hosted_zones.values(), *own}

    def zone_for(self, name: str) -> KnownZone | None:
        """The longest zone holding `name` (an explicit mapping wins a tie), or None. Our account's zones are listed
        (one ListHostedZones per container) only when the mappings do not name every zone the deployment may write,
        or none of them holds the name: a deployment that knows its zones finds them without a Route 53 call."""
        if self._own_zones_mapped:
            found = _longest_holding(normalize(name), [*self._role_listed_zones, *self._mapped_zones])
            if found is not None:
                return found
        return _longest_holding(normalize(name), self.zones)

    def challenge_target(self, domain: str) -> dict[str, str | None]:
        """{record_name, zone_id, role_arn, external_id} of the domain's DNS-01 record, CNAMEs followed.

        Only the first name (`_acme-challenge.<domain>`) may be outside our zones, its CNAME then read from DNS; every
        CNAME target must be in a zone we may use (ours, or a `dns-zones` entry's): a CNAME can send the record nowhere
        else.

        Raises ZoneNotFound for a name in no zone we may use and with no CNAME in DNS, a CNAME target outside those
        zones, or a CNAME loop; TransientError when DNS does not answer (or answers something else than was asked).
        """
        name = CHALLENGE_LABEL + normalize(domain.removeprefix("*."))
        visited = [name]
        for _ in range(MAX_CNAME_HOPS):
            zone = self.zone_for(name)
            target = self._cname_at(name, zone)
            if target is None:
                if zone is None:
                    raise ZoneNotFound(self._not_found(domain, name))
                return {"record_name": name, **zone.access.to_dict()}
            if target in visited:
                chain = " -> ".join([*visited, target])
                raise ZoneNotFound(f"the DNS-01 record of {domain!r} is delegated in a CNAME loop: {chain}")
            if self.zone_for(target) is None:
                raise ZoneNotFound(self._target_outside(domain, name, target))
            visited.append(target)
            name = target
        raise ZoneNotFound(f"the DNS-01 record of {domain!r} follows more than {MAX_CNAME_HOPS} CNAMEs: {visited}")

    def _cname_at(self, name: str, zone: KnownZone | None) -> str | None:
        """The CNAME target at `name` (in `zone`, or in none of ours): asked of DNS, then, only when DNS reports one at
        a name in our zone, read in the zone (DNS may have answered a wildcard's CNAME); in a private zone, read in
        Route 53 only. Raises TransientError when DNS does not answer, what the Route 53 read raises."""
        if zone is None:
            return self._services.public_dns.cname_at(name)
        if not zone.private and self._services.public_dns.cname_at(name) is None:
            return None
        return route53_reader(self._services, zone.access).cname_at(zone.access.zone_id, name)

    def _target_outside(self, domain: str, name: str, target: str) -> str:
        return (
            f"the DNS-01 record of {domain!r} is delegated by the CNAME at {name!r} to {target!r}, which is in no "
            f"zone configured for validation (zones: {self._known()}); a CNAME target must be in a Route 53 hosted "
            f"zone we may use or a 'dns-zones' entry (a validation-only zone, or a DNS account's zone reached "
            f"through its role): point the CNAME there, or add the target's zone"
        )

    def _not_found(self, domain: str, name: str) -> str:
        return (
            f"no Route 53 hosted zone we may use holds {domain!r} (zones: {self._known()}), and DNS has no CNAME at "
            f"{name!r}; create the zone, map the name with 'hosted-zones', give the DNS account's role under "
            f"'dns-zones', or delegate {name!r} by CNAME to a name in one of those zones; a name the CA validated "
            f"out of band (in its portal) goes under the account's 'prevalidated-domains' instead"
        )

    def _known(self) -> str:
        return ", ".join(sorted({zone.name for zone in self.zones})) or "none"


def _longest_holding(name: str, zones: list[KnownZone]) -> KnownZone | None:
    matching = [zone for zone in zones if _within(name, zone.name)]
    return max(matching, key=lambda zone: (len(zone.name), zone.explicit), default=None)


def longest_suffix(name: str, suffixes: Iterable[str]) -> str | None:
    """The longest of `suffixes` that `name` is or lies under; None when it is under none."""
    return max((suffix for suffix in suffixes if _within(name, suffix)), key=len, default=None)


def _within(name: str, suffix: str) -> bool:
    return name == suffix or name.endswith("." + suffix)


def route53_reader(services: Services, zone: ZoneAccess) -> Route53:
    """Route 53 of the zone for reading only: in a DNS account, through its read role."""
    return services.route53_for(zone.role_arn, zone.external_id, for_writing=False)
