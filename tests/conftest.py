"""Fixtures shared by the test modules."""
import pytest


@pytest.fixture(scope="module")
def one_thread():
    """One torch thread for the module: tiny models run fastest on one, and on a shared,
    oversubscribed 2-core runner OpenMP's spinning threads cost 3-10x."""
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
