"""The OAuth2 flow tests share one set of servers (see ``oauth2_servers.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from oauth2_servers import Servers, started_servers


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    with started_servers(tmp_path_factory.mktemp("oauth2")) as running:
        yield running
