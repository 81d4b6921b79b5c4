"""A first end-to-end check: write through the client, read back with plain HTTP."""


def test_create_record_is_stored(client, raw, bucket, collection):
    client.create_record({"id": 0, "title": "zero"}, collection=collection, bucket=bucket)
    url = f"{client.server_url}/buckets/{bucket}/collections/{collection}/records/0"
    stored = raw.get(url).json()["data"]
    assert stored["title"] == "zero"
    assert stored["id"] == "0"
