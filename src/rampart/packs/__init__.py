"""Rule packs shipped with Rampart; ``default`` covers the eight risk areas."""

from pathlib import Path
from typing import Final

DEFAULT_PACK: Final = Path(__file__).parent / "default"
# Card-payment fraud on card-transaction streams (customers, terminals, chargeback labels).
PAYMENTS_PACK: Final = Path(__file__).parent / "payments"
