"""AAMVA Issuer Identification Numbers (IIN): the 6 digits in a DL/ID barcode header.

Each licensing jurisdiction that issues AAMVA-compliant cards has an IIN registered by
AAMVA (ISO/IEC 7812 numbering). The table maps it to the jurisdiction's two-letter code,
its name and the country (ISO 3166-1 alpha-3). Written from the AAMVA IIN list; the
entries marked ``# unsure`` are those whose number the author could not confirm with
certainty.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Jurisdiction:
    """One issuing jurisdiction: ``code`` is its postal code (``VA``, ``ON``), ``country`` alpha-3."""

    iin: str
    code: str
    name: str
    country: str

    @property
    def is_us(self) -> bool:
        return self.country == "USA"

    @property
    def is_canadian(self) -> bool:
        return self.country == "CAN"


_ROWS: tuple[tuple[str, str, str, str], ...] = (
    # United States: the 50 states and the District of Columbia
    ("636033", "AL", "Alabama", "USA"),
    ("636059", "AK", "Alaska", "USA"),
    ("636026", "AZ", "Arizona", "USA"),
    ("636021", "AR", "Arkansas", "USA"),
    ("636014", "CA", "California", "USA"),
    ("636020", "CO", "Colorado", "USA"),
    ("636006", "CT", "Connecticut", "USA"),
    ("636011", "DE", "Delaware", "USA"),
    ("636043", "DC", "District of Columbia", "USA"),
    ("636010", "FL", "Florida", "USA"),
    ("636055", "GA", "Georgia", "USA"),
    ("636047", "HI", "Hawaii", "USA"),
    ("636050", "ID", "Idaho", "USA"),
    ("636035", "IL", "Illinois", "USA"),
    ("636037", "IN", "Indiana", "USA"),
    ("636018", "IA", "Iowa", "USA"),
    ("636022", "KS", "Kansas", "USA"),
    ("636046", "KY", "Kentucky", "USA"),
    ("636007", "LA", "Louisiana", "USA"),
    ("636041", "ME", "Maine", "USA"),
    ("636003", "MD", "Maryland", "USA"),
    ("636002", "MA", "Massachusetts", "USA"),
    ("636032", "MI", "Michigan", "USA"),
    ("636038", "MN", "Minnesota", "USA"),
    ("636051", "MS", "Mississippi", "USA"),
    ("636030", "MO", "Missouri", "USA"),
    ("636008", "MT", "Montana", "USA"),
    ("636054", "NE", "Nebraska", "USA"),
    ("636049", "NV", "Nevada", "USA"),
    ("636039", "NH", "New Hampshire", "USA"),
    ("636036", "NJ", "New Jersey", "USA"),
    ("636009", "NM", "New Mexico", "USA"),
    ("636001", "NY", "New York", "USA"),
    ("636004", "NC", "North Carolina", "USA"),
    ("636034", "ND", "North Dakota", "USA"),
    ("636023", "OH", "Ohio", "USA"),
    ("636058", "OK", "Oklahoma", "USA"),
    ("636029", "OR", "Oregon", "USA"),
    ("636025", "PA", "Pennsylvania", "USA"),
    ("636052", "RI", "Rhode Island", "USA"),
    ("636005", "SC", "South Carolina", "USA"),
    ("636042", "SD", "South Dakota", "USA"),
    ("636053", "TN", "Tennessee", "USA"),
    ("636015", "TX", "Texas", "USA"),
    ("636040", "UT", "Utah", "USA"),
    ("636024", "VT", "Vermont", "USA"),
    ("636000", "VA", "Virginia", "USA"),
    ("636045", "WA", "Washington", "USA"),
    ("636061", "WV", "West Virginia", "USA"),
    ("636031", "WI", "Wisconsin", "USA"),
    ("636060", "WY", "Wyoming", "USA"),
    # US territories and federal issuers
    ("604427", "AS", "American Samoa", "USA"),
    ("636019", "GU", "Guam", "USA"),
    ("604430", "MP", "Northern Mariana Islands", "USA"),
    ("604431", "PR", "Puerto Rico", "USA"),
    ("636062", "VI", "US Virgin Islands", "USA"),
    ("636027", "DS", "US Department of State", "USA"),  # unsure of the code "DS" (diplomatic licences)
    # Canada
    ("604432", "AB", "Alberta", "CAN"),
    ("990876", "AB", "Alberta (non-ISO IIN)", "CAN"),  # unsure: seen on older Alberta cards
    ("636028", "BC", "British Columbia", "CAN"),
    ("636048", "MB", "Manitoba", "CAN"),
    ("636017", "NB", "New Brunswick", "CAN"),
    ("636016", "NL", "Newfoundland and Labrador", "CAN"),
    ("636013", "NS", "Nova Scotia", "CAN"),
    ("604434", "NT", "Northwest Territories", "CAN"),  # unsure
    ("604433", "NU", "Nunavut", "CAN"),
    ("636012", "ON", "Ontario", "CAN"),
    ("604426", "PE", "Prince Edward Island", "CAN"),
    ("604428", "QC", "Quebec", "CAN"),
    ("636044", "SK", "Saskatchewan", "CAN"),
    ("604429", "YT", "Yukon", "CAN"),
    # Mexico (AAMVA members)
    ("636056", "CU", "Coahuila", "MEX"),  # unsure of the code
    ("636057", "HG", "Hidalgo", "MEX"),  # unsure of the code
)

#: IIN (6 digits) -> jurisdiction.
IIN_TABLE: dict[str, Jurisdiction] = {iin: Jurisdiction(iin, code, name, country) for iin, code, name, country in _ROWS}

#: Two-letter code -> the IIN(s) of that jurisdiction.
IINS_BY_CODE: dict[str, tuple[str, ...]] = {}
for _j in IIN_TABLE.values():
    IINS_BY_CODE[_j.code] = (*IINS_BY_CODE.get(_j.code, ()), _j.iin)
del _j


def lookup_iin(iin: str) -> Jurisdiction | None:
    """The jurisdiction registered under ``iin`` (6 digits), or ``None`` when unknown."""
    return IIN_TABLE.get(iin.strip())


def iin_for(code: str) -> str | None:
    """The (first) IIN of a jurisdiction given its two-letter code (``"VA"`` -> ``"636000"``)."""
    iins = IINS_BY_CODE.get(code.strip().upper())
    return iins[0] if iins else None
