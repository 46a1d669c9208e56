async def test_health_answers_as_pocketbase(pbk_client):
    result = await pbk_client.get("/api/health")
    assert result.status_code == 200
    assert result.json == {"message": "API is healthy.", "code": 200, "data": {}}
