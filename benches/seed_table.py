#!/usr/bin/env python3
"""benches/seed_table.py: fills an Azure Table (Azurite) with N marketplace lead entities of
the shape leadcheck's own test lead has (CustomerInfo a JSON string, CreatedTime), over the
last 90 days, every tenth one a MSFT_TEST_ lead. Used by benches/leads.sh; not run by CI.

Usage: seed_table.py ENDPOINT TABLE N   (ENDPOINT: http://127.0.0.1:PORT/devstoreaccount1)
       seed_table.py --read ENDPOINT TABLE [DAYS]
                                             reads every entity back (with DAYS, those the
                                             service wrote in the last DAYS days, the filter
                                             leadcheck's --since sends), in pages of 1,000
                                             through the continuation headers, and prints
                                             the count: the service's own time, the anchor
                                             leadcheck's read is compared with

Single inserts over several keep-alive connections: no batch format to get wrong, and
Azurite takes a few thousand a second this way."""
import base64, hashlib, hmac, http.client, json, random, sys, threading, time
from email.utils import formatdate
from urllib.parse import urlparse

KEY = base64.b64decode(
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==")
ACCOUNT = "devstoreaccount1"
OFFERS = ["Contoso Analytics", "Fabrikam CRM", "Northwind BI", "Tailspin Ops"]
NAMES = [("Ana", "Silva"), ("Zofia", "Wiśniewska"), ("민준", "김"), ("伟", "王"), ("John", "Smith")]


def sign(method, path, date, ctype):
    to_sign = f"{method}\n\n{ctype}\n{date}\n/{ACCOUNT}{path}"
    mac = hmac.new(KEY, to_sign.encode(), hashlib.sha256).digest()
    return f"SharedKey {ACCOUNT}:{base64.b64encode(mac).decode()}"


def request(conn, method, path, body, query=""):
    date = formatdate(usegmt=True)
    ctype = "application/json" if body is not None else ""
    conn.request(method, path + query, body=body, headers={
        "x-ms-date": date, "x-ms-version": "2019-02-02", "Content-Type": ctype,
        "Accept": "application/json;odata=nometadata", "Prefer": "return-no-content",
        "Authorization": sign(method, path, date, ctype)})
    r = conn.getresponse()
    data = r.read()
    if query:
        return r.status, r.getheaders(), data
    return r.status


def read_all(endpoint, table, days=None):
    """Counts every entity of the table, page by page, as a plain client does."""
    from urllib.parse import quote
    u = urlparse(endpoint)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    path = f"{u.path.rstrip('/')}/{table}()"
    query = "?$top=1000"
    if days is not None:
        since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - days * 86400))
        query += "&$filter=" + quote(f"Timestamp ge datetime'{since}'")
    n, after = 0, ""
    while True:
        status, headers, data = request(conn, "GET", path, None, query + after)
        assert status == 200, status
        n += len(json.loads(data)["value"])
        h = {k.lower(): v for k, v in headers}
        pk = h.get("x-ms-continuation-nextpartitionkey")
        rk = h.get("x-ms-continuation-nextrowkey")
        if not pk:
            return n
        after = f"&NextPartitionKey={quote(pk)}&NextRowKey={quote(rk or '')}"


def entity(k, now):
    rnd = random.Random(k)
    created = now - rnd.randrange(90 * 86400)
    t = time.gmtime(created)
    if k % 10 == 0:
        ticks = 621355968000000000 + created * 10_000_000
        first = last = company = f"MSFT_TEST_{ticks}"
        email = f"MSFT_TEST_{ticks}@test.com"
        row = f"MSFT_TEST_{ticks}_{k}"
    else:
        first, last = rnd.choice(NAMES)
        company, email, row = f"Company {k % 977}", f"lead{k}@example.com", f"lead-{k:07d}"
    info = {"FirstName": first, "LastName": last, "Email": email, "Phone": "1234567890",
            "Country": rnd.choice(["US", "PL", "BR", "KR", "TW"]), "Company": company,
            "Title": "Manager"}
    return {"PartitionKey": time.strftime("%m:2F%d:2F%Y", t), "RowKey": row,
            "ProductId": "contoso.analytics", "OfferDisplayName": rnd.choice(OFFERS),
            "LeadSource": "AzureMarketplace", "ActionCode": rnd.choice(["INS", "PLT", "TRL"]),
            "CustomerInfo": json.dumps(info, ensure_ascii=False),
            "CreatedTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", t)}


def main():
    if sys.argv[1] == "--read":
        days = int(sys.argv[4]) if len(sys.argv) > 4 else None
        print(read_all(sys.argv[2], sys.argv[3], days))
        return
    endpoint, table, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    u = urlparse(endpoint)
    base = u.path.rstrip("/")
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    status = request(conn, "POST", f"{base}/Tables", json.dumps({"TableName": table}))
    assert status in (201, 204, 409), status
    now = int(time.time())
    threads, errors = 8, []

    def work(part):
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        for k in range(part, n, threads):
            s = request(c, "POST", f"{base}/{table}",
                        json.dumps(entity(k, now), ensure_ascii=False).encode())
            if s != 204:
                errors.append((k, s))
                return

    started = time.time()
    ts = [threading.Thread(target=work, args=(p,)) for p in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        sys.exit(f"insert failed: {errors[:3]}")
    print(f"seeded {n} entities in {time.time() - started:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
