"""Attack campaigns: eight risk areas, two or more tactics each, sharing fake accounts.

Order matters: the account factory runs first and stocks ``kit.pool``; later tactics rent
those accounts, so one fake account can be labelled in several areas.
"""

from __future__ import annotations

from collections.abc import Callable

from rampart.simulate.campaigns import (
    account_integrity,
    brushing,
    click_farm,
    deal_hunter,
    incentive_abuse,
    information_leakage,
    malicious_activity,
    scalper,
)
from rampart.simulate.campaigns.base import Campaign, Kit
from rampart.simulate.market import Market

TACTICS: tuple[tuple[str, Callable[[Kit], None]], ...] = (
    ("account_integrity", account_integrity.bulk_signup),
    ("account_integrity", account_integrity.credential_stuffing),
    ("account_integrity", account_integrity.session_hijack),
    ("incentive_abuse", incentive_abuse.coupon_farm),
    ("incentive_abuse", incentive_abuse.referral_ring),
    ("scalper", scalper.drop_bots),
    ("scalper", scalper.reseller_ring),
    ("deal_hunter", deal_hunter.pricing_error_rush),
    ("deal_hunter", deal_hunter.coupon_stacking),
    ("malicious_activity", malicious_activity.card_testing),
    ("malicious_activity", malicious_activity.stolen_cards),
    ("malicious_activity", malicious_activity.serial_refunds),
    ("malicious_activity", malicious_activity.phishing),
    ("brushing", brushing.empty_parcels),
    ("brushing", brushing.review_ring),
    ("click_farm", click_farm.lockstep_engagement),
    ("click_farm", click_farm.live_view_inflation),
    ("information_leakage", information_leakage.enumeration),
    ("information_leakage", information_leakage.slow_scraper),
    ("information_leakage", information_leakage.off_platform),
)


def run_campaigns(m: Market, taken: set[str]) -> list[Campaign]:
    kit = Kit(m, taken)
    for _, tactic in TACTICS:
        tactic(kit)
    for c in kit.campaigns:
        kit.finish(c)
    return kit.campaigns


__all__ = ["TACTICS", "Campaign", "Kit", "run_campaigns"]
