"""simple-salesforce (unmodified, from PyPI) against the fake org.

simple-salesforce hard-codes https:// in every URL it builds (the token host is
https://{domain}.salesforce.com). Its documented `session=` argument is the only hook used
here: a requests.Session whose https:// transport adapter sends every request to the fake
org's loopback http:// address instead. Nothing of the library itself is patched.

Environment: SF_URL (http://127.0.0.1:PORT), SF_CLIENT_ID, SF_CLIENT_SECRET.
"""

import csv
import io
import json
import os
import sys
import urllib.parse
import urllib.request

import requests
from requests.adapters import HTTPAdapter
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

FAKE_URL = os.environ["SF_URL"].rstrip("/")
CLIENT_ID = os.environ["SF_CLIENT_ID"]
CLIENT_SECRET = os.environ["SF_CLIENT_SECRET"]
# Any My Domain that is not `login` or `test` selects simple-salesforce's client-credentials
# flow; the adapter below carries its requests to the fake org whatever the host.
DOMAIN = "fake-org.my"
REQUEST_TIMEOUT_SECS = 60


class LoopbackAdapter(HTTPAdapter):
    """Sends https://<any host>/path to the fake org's http://127.0.0.1:PORT/path."""

    def __init__(self, target):
        super().__init__()
        self.target = urllib.parse.urlsplit(target)

    def send(self, request, **kwargs):
        parts = urllib.parse.urlsplit(request.url)
        request.url = urllib.parse.urlunsplit(
            (self.target.scheme, self.target.netloc, parts.path, parts.query, parts.fragment)
        )
        kwargs["timeout"] = kwargs.get("timeout") or REQUEST_TIMEOUT_SECS
        return super().send(request, **kwargs)


def fake_control(path, body):
    req = urllib.request.Request(
        f"{FAKE_URL}/_fake/{path}",
        data=body.encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=REQUEST_TIMEOUT_SECS) as resp:
        resp.read()


def fake_stats():
    with urllib.request.urlopen(f"{FAKE_URL}/_fake/stats", timeout=REQUEST_TIMEOUT_SECS) as resp:
        return json.loads(resp.read())


CHECKS = []


def check(fn):
    CHECKS.append(fn)
    return fn


def make_client():
    session = requests.Session()
    session.mount("https://", LoopbackAdapter(FAKE_URL))
    return Salesforce(
        consumer_key=CLIENT_ID,
        consumer_secret=CLIENT_SECRET,
        domain=DOMAIN,
        session=session,
    )


SF = None


@check
def login_with_client_credentials():
    global SF
    SF = make_client()
    assert SF.session_id and "!" in SF.session_id, "an access token"
    assert SF.sf_instance == urllib.parse.urlsplit(FAKE_URL).netloc, SF.sf_instance


@check
def describe_global():
    result = SF.describe()
    names = {s["name"] for s in result["sobjects"]}
    for name in ("Account", "Case", "Contact", "Invoice__c"):
        assert name in names, f"{name} missing from describe()"
    assert result["encoding"] == "UTF-8"


@check
def account_describe():
    result = SF.Account.describe()
    assert result["name"] == "Account"
    fields = {f["name"]: f for f in result["fields"]}
    assert fields["Id"]["type"] == "id"
    assert fields["Name"]["nameField"] is True
    assert SF.api_usage.get("api-usage") is not None, "Sforce-Limit-Info parsed"


@check
def query_all_over_2000_records():
    count = SF.query("SELECT COUNT() FROM Account")["totalSize"]
    assert count > 2000, count
    first = SF.query("SELECT Id, Name FROM Account")
    assert first["done"] is False and len(first["records"]) == 2000
    assert first["nextRecordsUrl"].startswith("/services/data/v")
    result = SF.query_all("SELECT Id, Name FROM Account")
    ids = [r["Id"] for r in result["records"]]
    assert len(ids) == count == result["totalSize"], (len(ids), count)
    assert len(set(ids)) == count, "no row twice"


@check
def relationship_fields_and_subquery():
    result = SF.query(
        "SELECT Id, Name, Owner.Name, (SELECT Id, LastName FROM Contacts) FROM Account LIMIT 50"
    )
    records = result["records"]
    assert records, "some accounts"
    assert all(r["Owner"] is None or r["Owner"]["attributes"]["type"] == "User" for r in records)
    assert any(r["Owner"] and r["Owner"]["Name"] for r in records), "owners resolved"
    with_children = [r for r in records if r["Contacts"] is not None]
    assert with_children, "at least one account with contacts"
    for r in with_children:
        assert r["Contacts"]["records"][0]["attributes"]["type"] == "Contact"


@check
def invalid_field_raises_malformed_request():
    try:
        SF.query("SELECT Id, NoSuchField__c FROM Account")
    except SalesforceMalformedRequest as exc:
        assert exc.content[0]["errorCode"] == "INVALID_FIELD", exc.content
        assert "NoSuchField__c" in exc.content[0]["message"]
    else:
        raise AssertionError("INVALID_FIELD expected")


@check
def create_update_get_delete():
    created = SF.Account.create({"Name": "simple-salesforce conformance"})
    assert created["success"] is True and created["errors"] == [], created
    account_id = created["id"]
    assert SF.Account.update(account_id, {"Industry": "Energy"}) == 204
    record = SF.Account.get(account_id)
    assert record["Name"] == "simple-salesforce conformance"
    assert record["Industry"] == "Energy"
    assert SF.Account.delete(account_id) == 204
    deleted = SF.query_all(f"SELECT Id, IsDeleted FROM Account WHERE Id = '{account_id}'", include_deleted=True)
    assert deleted["records"][0]["IsDeleted"] is True
    live = SF.query(f"SELECT Id FROM Account WHERE Id = '{account_id}'")
    assert live["totalSize"] == 0


@check
def relogin_after_tokens_expire():
    before = SF.session_id
    tokens_before = fake_stats()["requests"]["token"]
    fake_control("faults", '{"expire_tokens": true}')
    result = SF.query("SELECT Id FROM Account LIMIT 1")
    assert result["totalSize"] == 1
    assert SF.session_id != before, "a new token after the 401"
    assert fake_stats()["requests"]["token"] == tokens_before + 1


BULK_SOQL = "SELECT Id, Name, Owner.Name, Industry FROM Account"
BULK_COLUMNS = ("Id", "Name", "Owner.Name", "Industry")


def rest_cells(record, column):
    value = record
    for key in column.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return "" if value is None else str(value)


@check
def bulk2_query_returns_the_rows_of_a_rest_query():
    rest = SF.query_all(BULK_SOQL)["records"]
    expected = [tuple(rest_cells(r, c) for c in BULK_COLUMNS) for r in rest]
    results_before = fake_stats()["requests"]["bulk_query_results"]
    # wait=0: the fake completes jobs at once, so no need for the library's 5 s first sleep.
    pages = list(SF.bulk2.Account.query(BULK_SOQL, max_records=1000, wait=0))
    rows = []
    for page in pages:
        reader = csv.DictReader(io.StringIO(page))
        assert tuple(reader.fieldnames) == BULK_COLUMNS, reader.fieldnames
        rows.extend(tuple(row[c] for c in BULK_COLUMNS) for row in reader)
    assert len(pages) == -(-len(expected) // 1000) and len(pages) > 1, len(pages)
    assert rows == expected, "bulk rows differ from REST rows"
    assert fake_stats()["requests"]["bulk_query_results"] == results_before + len(pages)


@check
def limits_search_tooling_and_tree():
    limits = SF.limits()
    for key in ("DailyApiRequests", "DailyBulkV2QueryJobs", "DataStorageMB", "SingleEmail"):
        assert {"Max", "Remaining"} <= set(limits[key]), key
    tree = SF.restful(
        "composite/tree/Account",
        method="POST",
        data=json.dumps({"records": [{
            "attributes": {"type": "Account", "referenceId": "acct"},
            "Name": "Simple Bilby Tree",
            "Contacts": {"records": [
                {"attributes": {"type": "Contact", "referenceId": "c1"}, "LastName": "Bilby"},
            ]},
        }]}),
    )
    assert tree["hasErrors"] is False, tree
    account_id = tree["results"][0]["id"]
    found = SF.search("FIND {bilby} RETURNING Account(Id, Name), Contact(Id, LastName)")
    types = [(r["attributes"]["type"], r["Id"]) for r in found["searchRecords"]]
    assert ("Account", account_id) in types, types
    assert any(t == "Contact" for t, _ in types), types
    quick = SF.quick_search("bilby")
    assert len(quick["searchRecords"]) == len(found["searchRecords"]), quick
    classes = SF.toolingexecute("query/?q=SELECT+Id,Name+FROM+ApexClass")
    assert classes["totalSize"] == 0 and classes["records"] == [], classes
    try:
        SF.search("FIND {b}")
        raise AssertionError("a one-character term is refused")
    except SalesforceMalformedRequest as err:
        assert err.content[0]["errorCode"] == "INVALID_SEARCH", err.content


def main():
    failures = 0
    for fn in CHECKS:
        try:
            fn()
            print(f"ok    simple-salesforce {fn.__name__}")
        except Exception as exc:  # report every check, then fail
            failures += 1
            print(f"FAIL  simple-salesforce {fn.__name__}: {type(exc).__name__}: {exc}")
    print(f"simple-salesforce: {len(CHECKS) - failures}/{len(CHECKS)} checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
