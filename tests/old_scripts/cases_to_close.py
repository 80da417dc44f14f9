"""A script written against the old dashboard's API, as its users wrote them (bin/cases_to_close.py): closed
cases whose card is still open. It knows nothing of T5G: plain GETs of /api/cases and /api/cards, no
credentials of its own (requests adds them from ~/.netrc), the old shapes. tests/test_compat_api.py runs it.
"""

import os
import sys

import requests


def main() -> None:
    api = os.environ["DASH_API"]
    cases = requests.get(f"{api}/api/cases", timeout=30)
    cards = requests.get(f"{api}/api/cards", timeout=30)
    for answer in (cases, cards):
        if answer.status_code != 200:
            print(f"could not retrieve {answer.url}: {answer.status_code}")
            sys.exit(1)
    closed = {number for number, case in cases.json().items() if case["status"] == "Closed"}
    for key, card in cards.json().items():
        if card["card_status"] != "Done" and card["case_number"] in closed:
            print(f"{key} : {card['case_number']} ({card['assignee']['displayName']})")


if __name__ == "__main__":
    main()
