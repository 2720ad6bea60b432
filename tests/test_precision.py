"""genlab.config's precision setting: parsing, the hardware choice, applying it, float32 metrics.

The frozen-D guarantees under both policies are in test_gan.py (parametrized
over the policy); the measurement behind the default is benchmarks/precision.py.
"""

import numpy as np
import pytest

from genlab import config, data, features
from genlab.models import classifier, dcgan

import keras  # noqa: E402  (after genlab: TensorFlow without its start-up logs)

AVX2 = {"fpu", "sse4_2", "avx", "avx2", "fma"}           # e.g. AMD EPYC Zen 2/3
AVX512_BF16 = AVX2 | {"avx512f", "avx512_bf16"}          # e.g. AMD EPYC Zen 4, Intel Cooper Lake
AMX = AVX2 | {"avx512f", "amx_tile", "amx_bf16"}         # e.g. Intel Sapphire Rapids
T4, V100, A100, L4 = ({"compute_capability": capability, "device_name": name}
                      for capability, name in (((7, 5), "Tesla T4"), ((7, 0), "Tesla V100"),
                                               ((8, 0), "A100"), ((8, 9), "NVIDIA L4")))


@pytest.mark.parametrize("value, expected", [
    ("float32", "float32"), ("mixed_bfloat16", "mixed_bfloat16"), (" Mixed_BFloat16 ", "mixed_bfloat16"),
])
def test_a_forced_precision_wins_over_the_hardware(value, expected):
    for flags in (AVX2, AMX):
        policy, reason = config.detect_precision({"GENLAB_PRECISION": value}, flags=flags, gpus=[])
        assert (policy, reason) == (expected, f"GENLAB_PRECISION={expected}")


@pytest.mark.parametrize("value", ["float16", "bf16", "mixed_float16", "fast"])
def test_an_unknown_precision_is_a_clear_error(value):
    with pytest.raises(ValueError, match=f"GENLAB_PRECISION='{value}'.*auto, float32, mixed_bfloat16"):
        config.detect_precision({"GENLAB_PRECISION": value}, flags=AMX, gpus=[])


@pytest.mark.parametrize("flags, gpus, expected", [
    (AVX2, [], "float32"),                          # bfloat16 emulated: slower
    (AVX512_BF16, [], "mixed_bfloat16"),
    (AMX, [], "mixed_bfloat16"),
    (set(), [], "float32"),                         # flags unknown (no /proc/cpuinfo)
    (AMX, [T4], "float32"),                         # a GPU runs the models: the GPU decides
    (AVX2, [A100], "mixed_bfloat16"),
    (AVX2, [L4], "mixed_bfloat16"),
    (AVX2, [A100, V100], "float32"),                # every GPU must be native
    (AMX, [{"device_name": "unknown"}], "float32"),  # no compute capability reported
])
def test_auto_chooses_bfloat16_only_where_it_is_native(flags, gpus, expected):
    for environ in ({"GENLAB_PRECISION": "auto"}, {"GENLAB_PRECISION": " AUTO "}):
        policy, reason = config.detect_precision(environ, flags=flags, gpus=gpus)
        assert policy == expected
        assert reason.startswith("auto")


@pytest.mark.parametrize("flags, gpus, auto", [(AVX2, [], "float32"), (AVX512_BF16, [], "mixed_bfloat16"),
                                               (AMX, [], "mixed_bfloat16"), (AVX2, [A100], "mixed_bfloat16")])
def test_the_default_is_float32_and_says_what_auto_would_choose(flags, gpus, auto):
    """float32 unless the student asks: benchmarks/precision.py did not show equal quality (config)."""
    for environ in ({}, {"GENLAB_PRECISION": ""}, {"GENLAB_PRECISION": "  "}):
        policy, reason = config.detect_precision(environ, flags=flags, gpus=gpus)
        assert policy == "float32"
        assert reason.startswith(f"default; auto would choose {auto} here")


@pytest.mark.parametrize("flags, expected", [(AVX2, "float32"), (AMX, "mixed_bfloat16")])
def test_use_precision_auto_follows_the_hardware_whatever_the_setting(monkeypatch, flags, expected):
    monkeypatch.setattr(config, "cpu_flags", lambda: flags)
    monkeypatch.setattr(config, "gpu_details", lambda: [])
    monkeypatch.setenv("GENLAB_PRECISION", "float32")
    with config.precision_scope("float32"):
        assert config.use_precision("auto") == expected
        assert keras.mixed_precision.dtype_policy().name == expected


def test_the_reason_names_what_was_found():
    auto = {"GENLAB_PRECISION": "auto"}
    assert "avx512_bf16" in config.detect_precision(auto, flags=AVX512_BF16, gpus=[])[1]
    assert "8.0" in config.detect_precision(auto, flags=AVX2, gpus=[A100])[1]
    assert "no native bfloat16" in config.detect_precision(auto, flags=AVX2, gpus=[T4])[1]


def test_cpu_flags_are_read_from_cpuinfo(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: Some CPU\nflags\t\t: fpu avx2 avx512_bf16\n\n"
                       "processor\t: 1\nflags\t\t: fpu avx2 avx512_bf16\n")
    assert config.cpu_flags(cpuinfo) == {"fpu", "avx2", "avx512_bf16"}
    assert config.cpu_flags(tmp_path / "missing") == set()


def test_precision_is_resolved_once(monkeypatch):
    monkeypatch.setattr(config, "_precision", None)
    monkeypatch.setenv("GENLAB_PRECISION", "mixed_bfloat16")
    assert config.precision() == "mixed_bfloat16"
    monkeypatch.setenv("GENLAB_PRECISION", "float32")
    assert config.precision() == "mixed_bfloat16"  # fixed for the process, like the mode
    monkeypatch.setattr(config, "_precision", None)
    assert config.precision() == "float32"


def test_use_precision_applies_the_policy_and_the_scope_restores_it(monkeypatch):
    monkeypatch.setattr(config, "_precision", ("mixed_bfloat16", "test"))
    before = keras.mixed_precision.dtype_policy().name
    with config.precision_scope("float32"):
        assert config.use_precision() == "mixed_bfloat16"  # None: this process's setting
        layer = keras.layers.Dense(2)
        assert keras.mixed_precision.dtype_policy().name == "mixed_bfloat16"
    assert keras.mixed_precision.dtype_policy().name == before
    layer.build((None, 3))
    assert layer.compute_dtype == "bfloat16" and layer.kernel.dtype == "float32"
    assert keras.layers.Dense(2).compute_dtype == "float32"
    with pytest.raises(RuntimeError):
        with config.precision_scope("mixed_bfloat16"):
            raise RuntimeError("restored on errors too")
    assert keras.mixed_precision.dtype_policy().name == before
    with pytest.raises(ValueError, match="precision must be one of"):
        config.use_precision("float16")
    assert keras.mixed_precision.dtype_policy().name == before


def test_the_feature_extractor_stays_float32_under_mixed_bfloat16(monkeypatch):
    images = data.load("mnist")[1][0][:64]
    monkeypatch.setattr(features, "_CACHE", {})
    reference = features.get_extractor("mnist").features(images)
    monkeypatch.setattr(features, "_CACHE", {})
    with config.precision_scope("mixed_bfloat16"):
        extractor = features.get_extractor("mnist")
        network = classifier.load("mnist")
        assert {layer.compute_dtype for layer in extractor.model.layers} == {"float32"}
        assert {layer.compute_dtype for layer in network.layers} == {"float32"}
        assert np.array_equal(extractor.features(images), reference)  # the same FID under both


def test_dcgan_builders_under_mixed_bfloat16():
    """bfloat16 inside, float32 images and probabilities out, the same parameters as in float32."""
    counts = {}
    for policy in ("float32", "mixed_bfloat16"):
        with config.precision_scope(policy):
            generator, discriminator = dcgan.build_generator(), dcgan.build_discriminator()
        z = np.random.default_rng(0).normal(size=(2, dcgan.LATENT_DIM)).astype("float32")
        images = generator(z)
        assert images.dtype == "float32" and discriminator(images).dtype == "float32"
        inner = "bfloat16" if policy == "mixed_bfloat16" else "float32"
        assert generator.get_layer("block1_conv").compute_dtype == inner
        assert discriminator.get_layer("block2_conv").compute_dtype == inner
        counts[policy] = (generator.count_params(), discriminator.count_params())
    assert counts["float32"] == counts["mixed_bfloat16"]


def test_the_benchmark_starts_both_policies_from_one_state_and_reports_both(capsys):
    """benchmarks/precision.py on a tiny budget (a smoke test: its figures are the benchmark's business)."""
    import importlib.util

    from genlab import paths

    spec = importlib.util.spec_from_file_location("precision_benchmark",
                                                  paths.REPO_ROOT / "benchmarks" / "precision.py")
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    models = benchmark.build_pair(seed=3)
    (g32, d32, _), (g16, d16, _) = models["float32"], models["mixed_bfloat16"]
    assert g16.get_layer("dense").compute_dtype == "bfloat16"
    for ours, theirs in ((g32, g16), (d32, d16)):
        assert all(np.array_equal(a.numpy(), b.numpy()) for a, b in zip(ours.variables, theirs.variables))
    assert benchmark.main(["--iterations", "14", "--blocks", "2", "--seeds", "0", "--samples", "64"]) == 0
    output = capsys.readouterr().out
    assert output.count("    0         float32") == 1 and output.count("    0  mixed_bfloat16") == 1
    assert "speed-up float32 ms / mixed_bfloat16 ms: mean" in output
