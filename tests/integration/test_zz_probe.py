def test_probe(session, origin):
    url = origin.url("/data/vary-auth", vary="Authorization, Accept-Encoding")
    h = {"Authorization": "Bearer token-1"}
    a = session.get(url, headers=h); b = session.get(url, headers=h)
    print(a.from_cache, b.from_cache, origin.hits("/data/vary-auth"))
    (stored,) = session.cache.responses.values()
    print(stored.request.headers)
    session.cookies.set("sid", "abc")
    url2 = origin.url("/data/vary-cookie", vary="Cookie")
    c = session.get(url2); d = session.get(url2)
    print(c.from_cache, d.from_cache, origin.hits("/data/vary-cookie"))
    assert 0
