"""The BentoML scoring service over real HTTP (issue 5 §3).

A module fixture generates a population, trains a small LightGBM PMT (and, when the photo pipeline is
there, a tiny house CNN) into a temporary MLflow SQLite store, writes a token-hash file and a serving
config with small limits, starts `bentoml serve serving.service:DesilService` as a subprocess on
127.0.0.1 and waits for /readyz. Tests call it with httpx; the server is always stopped at the end.
"""

from __future__ import annotations

import io
import json
import os
import struct
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import mlflow.pyfunc
import numpy as np
import pandas as pd
import pytest
import yaml
from mlflow.tracking import MlflowClient
from PIL import Image

from config import PROJECT_ROOT
from features.nested_input import to_json_records, to_nested
from models.pmt_pyfunc import rank_nested
from serving.auth import hash_token, new_token
from serving.connection_balancing import shared_directory
from serving.process import ServiceNotReady, free_port, start_service, stop_service, wait_ready

N_FAMILIES = 10_000  # the smallest population whose survey sample the LightGBM PMT trains on
SEED = 7
READY_TIMEOUT_S = 180
# Small limits so that oversize requests stay cheap to build.
RECYCLE_AFTER = 40  # max_requests_per_connection of the test server (the default config has it off)
TEST_LIMITS = {"max_families_per_request": 200, "max_families_per_explain": 5, "max_photos_per_request": 3,
               "max_image_pixels": 100_000}


# ------------------------------------------------------------------------------------------------
# fixtures
# ------------------------------------------------------------------------------------------------
def _serve_env(tmp: Path, tracking_uri: str, token_file: Path, config_file: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DESIL_", "MLFLOW_", "BENTOML_"))}
    env.update({"MLFLOW_TRACKING_URI": tracking_uri, "DESIL_TOKEN_HASHES_FILE": str(token_file),
                "BENTOML_HOME": str(tmp / "bentoml_home"), "BENTOML_DO_NOT_TRACK": "True"})
    if config_file is not None:
        env["DESIL_CONFIG_SERVING"] = str(config_file)
    return env


def _json_families(families: pd.DataFrame, members: pd.DataFrame) -> list[dict]:
    """Request families as a client sends them: JSON objects with a `members` list."""
    return to_json_records(families, members)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """Population + registered models in a temporary SQLite MLflow store."""
    from data.synth import write_population
    from training.train_pmt import train_pmt

    root = tmp_path_factory.mktemp("serving")
    pop = root / "population"
    write_population(N_FAMILIES, seed=SEED, out_dir=pop, progress=False)
    uri = f"sqlite:///{root / 'mlflow.db'}"
    pmt = train_pmt(pop, "lgbm", seed=0, register=True, alias="champion", tracking_uri=uri)
    cnn, cnn_skip, manifest = None, None, None
    try:
        from data.photos import render_photos
        from training.train_cnn import train_cnn
    except ImportError as err:
        cnn_skip = f"the photo pipeline is not importable ({err})"
    else:
        manifest = render_photos(pop, root / "photos", share=0.02, seed=3, size=64, workers=2, progress=False)
        cnn = train_cnn(root / "photos", epochs=1, device="cpu", seed=5, batch_size=32, image_size=64,
                        tracking_uri=uri, register=True, alias="champion", progress=False)
    families = pd.read_parquet(pop / "families.parquet")
    members = pd.read_parquet(pop / "members.parquet")
    return {"root": root, "pop": pop, "uri": uri, "pmt": pmt, "cnn": cnn, "cnn_skip": cnn_skip,
            "manifest": manifest, "photos": root / "photos", "families": families, "members": members}


@pytest.fixture(scope="module")
def token(store) -> str:
    return new_token()


@pytest.fixture(scope="module")
def token_file(store, token) -> Path:
    path = store["root"] / "tokens.txt"
    path.write_text(f"# test tokens\n{hash_token(new_token())} other-client\n{hash_token(token)} tests\n",
                    encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def server(store, token_file):
    """A running `bentoml serve` on a free port with small limits; yields its base URL."""
    root = store["root"]
    cfg = yaml.safe_load((PROJECT_ROOT / "config" / "serving.yaml").read_text(encoding="utf-8"))
    cfg["limits"].update(TEST_LIMITS)
    cfg["service"]["max_requests_per_connection"] = RECYCLE_AFTER
    config_file = root / "serving.yaml"
    config_file.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    port = free_port()
    log = root / "server.log"
    proc = start_service(port, _serve_env(root, store["uri"], token_file, config_file), log)
    base = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_ready(proc, base, log, READY_TIMEOUT_S)
        except ServiceNotReady as err:
            pytest.fail(str(err))
        yield {"base": base, "log": log, "pid": proc.pid}
    finally:
        stop_service(proc)


@pytest.fixture
def client(server, token):
    with httpx.Client(base_url=server["base"], timeout=120,
                      headers={"Authorization": f"Bearer {token}"}) as c:
        yield c


def test_keep_alive_connections_are_recycled(server):
    """With max_requests_per_connection set (off by default), about every n-th answer on a connection
    says Connection: close; httpx reconnects and goes on."""
    n = RECYCLE_AFTER
    with httpx.Client(base_url=server["base"], timeout=30) as c:
        answers = [c.get("/readyz") for _ in range(3 * n // 2 + 1)]  # the longest a connection may live
    assert all(r.status_code == 200 for r in answers)
    closing = [i + 1 for i, r in enumerate(answers) if r.headers.get("connection") == "close"]
    assert closing and n // 2 <= closing[0] < 3 * n // 2


def test_workers_publish_their_live_connections_in_one_shared_table(server):
    """Both workers of the running server count their keep-alive connections into the table they share
    (serving.connection_balancing; named by the pid of `bentoml serve`, the workers' parent)."""
    path = shared_directory() / f"desil-connections-{server['pid']}"
    clients = [httpx.Client(base_url=server["base"], timeout=30) for _ in range(8)]
    try:
        for _ in range(5):
            assert all(c.get("/readyz").status_code == 200 for c in clients)
        slots = list(struct.iter_unpack("<qd", path.read_bytes()))
        now = time.monotonic()
    finally:
        for c in clients:
            c.close()
    assert len(slots) == 2  # one per worker (config workers: 2)
    fresh = [count for count, at in slots if now - at < 10]  # published while the clients were busy
    assert fresh and all(count >= 1 for count in fresh)
    assert sum(fresh) >= len(clients)  # every connection counted by the worker it landed on


def _sample(store, n: int, offset: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    fam = store["families"].iloc[offset:offset + n]
    mem = store["members"]
    return fam, mem[mem["family_id"].isin(fam["family_id"])]


# ------------------------------------------------------------------------------------------------
# ranking
# ------------------------------------------------------------------------------------------------
def test_rank_valid_batch(store, client):
    fam, mem = _sample(store, 40)
    r = client.post("/rank", json={"families": _json_families(fam, mem)})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model"]["pmt"]["version"] == store["pmt"].registered_version
    assert body["n_families"] == body["n_scored"] == 40 and body["n_rejected"] == 0
    results = body["results"]
    assert [x["family_id"] for x in results] == fam["family_id"].tolist()
    for x in results:
        assert x["error"] is None and 1 <= x["desil"] <= 10
        assert 0 <= x["p_desil_le_4"] <= x["p_desil_le_5"] <= 1
        assert x["pi_low"] <= x["predicted_log_pcexp"] <= x["pi_high"]
        assert ("PKH" in x["programs"]) == x["eligible_PKH"]
        if x["exclusion_rule"] is None:
            assert x["eligible_PKH"] == (x["desil"] <= 4) and x["eligible_Sembako"] == (x["desil"] <= 5)
        else:
            assert x["programs"] == []


def test_mixed_batch_returns_every_family_once(store, client):
    fam, mem = _sample(store, 6, offset=100)
    good = _json_families(fam, mem)
    bad_province = dict(good[1], province_code="99")
    bad_age = json.loads(json.dumps(good[2]))
    bad_age["members"][0]["age"] = -3
    no_members = dict(good[3], members=[])
    sent = [good[0], bad_province, bad_age, no_members, 17, {"members": []}, dict(good[4], members="x"), good[5]]
    r = client.post("/rank", json={"families": sent})
    assert r.status_code == 200, r.text
    body = r.json()
    results = body["results"]
    assert len(results) == len(sent) and body["n_rejected"] == 6 and body["n_scored"] == 2
    ids = [x["family_id"] for x in results]
    expected_ids = [good[0]["family_id"], good[1]["family_id"], good[2]["family_id"], good[3]["family_id"],
                    None, None, good[4]["family_id"], good[5]["family_id"]]
    assert ids == expected_ids
    assert results[0]["error"] is None and results[-1]["error"] is None
    assert "province_code" in results[1]["error"] and "'99'" in results[1]["error"]
    assert "age" in results[2]["error"] and "-3" in results[2]["error"]
    assert "members" in results[3]["error"]
    assert "not a JSON object" in results[4]["error"] and "family_id is missing" in results[5]["error"]
    assert "'members' must be a list" in results[6]["error"]
    assert all(results[i]["desil"] is None for i in range(1, 7))
    alone = client.post("/rank", json={"families": [good[0], good[5]]}).json()["results"]
    assert [alone[0]["predicted_log_pcexp"], alone[1]["predicted_log_pcexp"]] == \
        [results[0]["predicted_log_pcexp"], results[-1]["predicted_log_pcexp"]]


def test_a_family_sent_twice_in_one_request_is_refused_but_not_across_requests(store, client):
    fam, mem = _sample(store, 2, offset=300)
    a, b = _json_families(fam, mem)
    results = client.post("/rank", json={"families": [a, b, a]}).json()["results"]
    assert [x["family_id"] for x in results] == [a["family_id"], b["family_id"], a["family_id"]]
    for x in (results[0], results[2]):
        assert x["desil"] is None and f"family {a['family_id']}: family_id appears 2 times" in x["error"]
    assert results[1]["error"] is None and results[1]["desil"] is not None
    explained = client.post("/explain", json={"families": [a, a]}).json()["results"]
    assert all("appears 2 times" in x["error"] for x in explained)
    # rank_family: the same family from concurrent requests (maybe one scoring call) is scored for each
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda _: client.post("/rank_family", json={"families": [a]}).json(), range(8)))
    assert all(r[0]["error"] is None and r[0]["desil"] is not None for r in answers)
    assert len({r[0]["predicted_log_pcexp"] for r in answers}) == 1


def test_scores_equal_the_registered_model_in_process(store, client):
    fam, mem = _sample(store, 60, offset=500)
    http = pd.DataFrame(client.post("/rank", json={"families": _json_families(fam, mem)}).json()["results"])
    # The registered model loaded here, scored through its own path (PMTPyfunc.predict -> rank_nested).
    pyfunc = mlflow.pyfunc.load_model(f"models:/desil-pmt/{store['pmt'].registered_version}")
    local = rank_nested(pyfunc.unwrap_python_model().model, to_nested(fam, mem)).reset_index(drop=True)
    assert http["family_id"].tolist() == local["family_id"].astype(str).tolist()
    np.testing.assert_allclose(http["predicted_log_pcexp"].to_numpy(float),
                               local["predicted_log_pcexp"].to_numpy(float), rtol=0, atol=1e-9)
    np.testing.assert_allclose(http["p_desil_le_5"].to_numpy(float), local["p_desil_le_5"].to_numpy(float),
                               rtol=0, atol=1e-9)
    assert http["desil"].tolist() == local["desil"].astype(int).tolist()


def test_rank_family_route_matches_rank(store, client):
    fam, mem = _sample(store, 3, offset=900)
    sent = _json_families(fam, mem)
    batch = client.post("/rank", json={"families": sent}).json()["results"]
    for one, ref in zip(sent, batch, strict=True):
        r = client.post("/rank_family", json={"families": [one]})
        assert r.status_code == 200, r.text
        (got,) = r.json()
        assert got["family_id"] == ref["family_id"] and got["desil"] == ref["desil"]
        assert got["predicted_log_pcexp"] == pytest.approx(ref["predicted_log_pcexp"], abs=1e-12)
        assert got["pmt_model_version"] == store["pmt"].registered_version


def test_parquet_round_trip(store, client):
    fam, mem = _sample(store, 300, offset=1000)
    nested = io.BytesIO()
    to_nested(fam, mem).to_parquet(nested, index=False)
    r = client.post("/rank_file", files={"families": ("families.parquet", nested.getvalue())})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/vnd.apache.parquet"
    assert r.headers["x-desil-pmt-version"] == store["pmt"].registered_version
    one_file = pd.read_parquet(io.BytesIO(r.content))
    assert one_file["family_id"].tolist() == fam["family_id"].tolist() and one_file["error"].isna().all()
    fam_buf, mem_buf = io.BytesIO(), io.BytesIO()
    fam.to_parquet(fam_buf, index=False)
    mem.to_parquet(mem_buf, index=False)
    r2 = client.post("/rank_file", files={"families": ("f.parquet", fam_buf.getvalue()),
                                          "members": ("m.parquet", mem_buf.getvalue())})
    assert r2.status_code == 200, r2.text
    two_files = pd.read_parquet(io.BytesIO(r2.content))
    pd.testing.assert_frame_equal(one_file, two_files)
    json_first = client.post("/rank", json={"families": _json_families(fam.head(20), mem)}).json()["results"]
    np.testing.assert_allclose(one_file["predicted_log_pcexp"].head(20).to_numpy(float),
                               [x["predicted_log_pcexp"] for x in json_first], rtol=0, atol=1e-9)


def test_parquet_upload_errors_are_4xx(store, client):
    r = client.post("/rank_file", files={"families": ("f.parquet", b"family_id,province_code\nF1,31\n")})
    assert r.status_code == 422 and "not a Parquet file" in r.json()["error"]
    fam, _ = _sample(store, 5)
    buf = io.BytesIO()
    fam.to_parquet(buf, index=False)
    r = client.post("/rank_file", files={"families": ("f.parquet", buf.getvalue())})
    assert r.status_code == 422 and "no 'members' column" in r.json()["error"]


# ------------------------------------------------------------------------------------------------
# photos, explanations, model facts
# ------------------------------------------------------------------------------------------------
def test_classify_house_photos(store, client):
    if store["cnn"] is None:
        pytest.skip(f"no house-cnn registered: {store['cnn_skip']}")
    first = store["manifest"].iloc[0]
    jpeg_path = store["photos"] / first["path"]
    png = io.BytesIO()
    Image.open(jpeg_path).save(png, format="PNG")
    r = client.post("/classify_house", files=[("photos", ("a.jpg", jpeg_path.read_bytes(), "image/jpeg")),
                                              ("photos", ("b.png", png.getvalue(), "image/png"))])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model"]["version"] == store["cnn"]["registered_version"]
    assert [x["index"] for x in body["results"]] == [0, 1]
    local = mlflow.pyfunc.load_model(f"models:/house-cnn/{store['cnn']['registered_version']}").predict(
        pd.DataFrame({"image_path": [str(jpeg_path)]}))
    for head, out in body["results"][0]["heads"].items():
        probs = out["probabilities"]
        assert sum(probs.values()) == pytest.approx(1.0, abs=1e-5)
        assert out["label"] == max(probs, key=probs.get) == local[f"{head}_label"].iloc[0]
        for cls, p in probs.items():
            assert p == pytest.approx(float(local[f"prob_{head}_{cls}"].iloc[0]), abs=1e-5)
    assert set(body["results"][0]["heads"]) == {"wall", "roof", "floor", "habitable"}


def test_classify_house_limits(store, client):
    if store["cnn"] is None:
        pytest.skip(f"no house-cnn registered: {store['cnn_skip']}")
    r = client.post("/classify_house", files=[("photos", ("x.jpg", b"not an image at all", "image/jpeg"))])
    assert r.status_code == 422 and "photo 0" in r.json()["error"]
    big = io.BytesIO()
    Image.new("RGB", (400, 400), (120, 90, 60)).save(big, format="PNG")  # 160,000 px > 100,000
    r = client.post("/classify_house", files=[("photos", ("big.png", big.getvalue(), "image/png"))])
    assert r.status_code == 413 and "pixels" in r.json()["error"]
    small = io.BytesIO()
    Image.new("RGB", (64, 64), (1, 2, 3)).save(small, format="JPEG")
    files = [("photos", (f"{i}.jpg", small.getvalue(), "image/jpeg")) for i in range(4)]
    r = client.post("/classify_house", files=files)
    assert r.status_code == 413 and "at most 3" in r.json()["error"]


def test_explain_in_words(store, client):
    fam, mem = _sample(store, 3, offset=2000)
    sent = _json_families(fam, mem)
    bad = dict(sent[0], province_code="99", family_id=sent[0]["family_id"] + "X")  # an id sent twice is refused
    r = client.post("/explain", json={"families": [*sent, bad], "top_k": 4})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    ranked = client.post("/rank", json={"families": sent}).json()["results"]
    for got, ref in zip(results[:3], ranked, strict=True):
        assert got["family_id"] == ref["family_id"] and got["desil"] == ref["desil"]
        assert got["predicted_log_pcexp"] == pytest.approx(ref["predicted_log_pcexp"], abs=1e-6)
        assert len(got["contributions"]) == 4
        sizes = [abs(c["contribution"]) for c in got["contributions"]]
        assert sizes == sorted(sizes, reverse=True)
        assert all("log expenditure" in c["text"] for c in got["contributions"])
    assert "province_code" in results[3]["error"]


def test_model_info(store, client):
    r = client.post("/model_info", json={})
    assert r.status_code == 200, r.text
    info = r.json()
    pmt = info["pmt"]
    assert pmt["version"] == store["pmt"].registered_version and "champion" in pmt["aliases"]
    cuts = pmt["cut_points_welfare"]
    assert len(cuts) == 9 and cuts == sorted(cuts)
    run = MlflowClient(tracking_uri=store["uri"]).get_run(store["pmt"].run_id)
    assert pmt["data_fingerprint"] == run.data.tags["data_fingerprint"] and pmt["data_fingerprint"]
    assert info["house_cnn"]["loaded"] == (store["cnn"] is not None)


# ------------------------------------------------------------------------------------------------
# security and limits
# ------------------------------------------------------------------------------------------------
def test_token_required_except_health(server, token):
    base = server["base"]
    r = httpx.post(f"{base}/rank", json={"families": []})
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    assert httpx.post(f"{base}/rank", json={"families": []}, headers={"Authorization": "Basic abc"}).status_code == 401
    wrong = httpx.post(f"{base}/rank", json={"families": []}, headers={"Authorization": f"Bearer {token}x"})
    assert wrong.status_code == 403
    assert httpx.post(f"{base}/model_info", json={}, headers={"Authorization": "Bearer nope"}).status_code == 403
    for path in ("/livez", "/readyz", "/metrics"):
        assert httpx.get(f"{base}{path}").status_code == 200
    ok = httpx.post(f"{base}/rank", json={"families": []}, headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200 and ok.json()["n_families"] == 0


def test_oversize_requests_are_refused(store, client):
    fam, mem = _sample(store, 1)
    one = _json_families(fam, mem)[0]
    too_many = [dict(one, family_id=f"X{i:06d}") for i in range(TEST_LIMITS["max_families_per_request"] + 1)]
    r = client.post("/rank", json={"families": too_many})
    assert r.status_code == 413 and "at most 200" in r.json()["error"]
    r = client.post("/explain", json={"families": too_many[:6]})
    assert r.status_code == 413 and "at most 5" in r.json()["error"]
    huge = json.dumps({"families": [one], "padding": "x" * (1024 * 1024 + 10)})
    r = client.post("/rank_family", content=huge, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and "larger than" in r.json()["error"]


def test_request_logs_carry_no_attributes(server):
    log = server["log"].read_text(encoding="utf-8", errors="replace")
    assert "rank request_id=" in log
    for leaked in ("province_code", "members", "asset_car", "F0000000"):
        assert leaked not in log.replace("has no 'members' column", "")


def test_bounded_concurrency_no_5xx(store, client, server, token):
    fam, mem = _sample(store, 16, offset=3000)
    sent = _json_families(fam, mem)
    codes: list[int] = []
    lock = threading.Lock()

    def worker(k: int) -> None:
        with httpx.Client(base_url=server["base"], timeout=120,
                          headers={"Authorization": f"Bearer {token}"}) as c:
            for i in range(50):
                route = "/rank_family" if i % 5 else "/rank"
                status = c.post(route, json={"families": [sent[(k + i) % len(sent)]]}).status_code
                with lock:
                    codes.append(status)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(codes) == 400 and set(codes) == {200}


# ------------------------------------------------------------------------------------------------
# refusing to start
# ------------------------------------------------------------------------------------------------
def _refused(tmp: Path, env: dict[str, str]) -> tuple[int, str]:
    log = tmp / "refused.log"
    proc = start_service(free_port(), env, log)
    try:
        code = proc.wait(timeout=120)
    finally:
        stop_service(proc)
    return code, log.read_text(encoding="utf-8", errors="replace")


def test_refuses_to_start_without_the_model(tmp_path, token_file):
    empty_uri = f"sqlite:///{tmp_path / 'empty.db'}"
    MlflowClient(tracking_uri=empty_uri, registry_uri=empty_uri).search_experiments()  # creates the store
    code, out = _refused(tmp_path, _serve_env(tmp_path, empty_uri, token_file, None))
    assert code != 0
    assert "refuses to start" in out and "no registered model 'desil-pmt'" in out
    assert "desil train pmt --data" in out and "--register --alias champion" in out


def test_refuses_to_start_without_the_alias(store, tmp_path, token_file):
    env = _serve_env(tmp_path, store["uri"], token_file, None)
    env["DESIL_PMT_MODEL"] = "@production"
    code, out = _refused(tmp_path, env)
    assert code != 0
    assert "has no alias 'production'" in out and "champion -> v1" in out


def test_refuses_to_start_without_tokens(store, tmp_path):
    env = _serve_env(tmp_path, store["uri"], tmp_path / "missing-tokens.txt", None)
    code, out = _refused(tmp_path, env)
    assert code != 0 and "missing-tokens.txt: no such file" in out
