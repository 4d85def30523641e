"""PyInstaller hook for diffusers (PyInstaller and its contributed hooks have none).

diffusers resolves most of its names lazily (`_LazyModule`), so analysis of `import diffusers` finds little of
what the app touches at run time; and at import it checks its dependencies' versions with importlib.metadata,
so their metadata must travel with the bundle (packaging/build.py METADATA adds the rest).
"""

from PyInstaller.utils.hooks import collect_submodules, copy_metadata

# What the app uses at run time: the model classes (models.*), the pipeline base class (pipelines.pipeline_utils
# and what it loads), the schedulers, group offloading (hooks), the loaders mixed into the models, the quantizer
# plumbing the model loader consults, and utils. Of the pipelines only the base machinery is asked for here.
_PACKAGES = ["models", "schedulers", "hooks", "loaders", "quantizers", "utils", "guiders"]


def _wanted(name: str) -> bool:
    parts = name.split(".")
    if len(parts) < 2:
        return True
    if parts[1] == "pipelines":
        return len(parts) == 2 or parts[2] in {"pipeline_utils", "pipeline_loading_utils", "auto_pipeline"}
    return parts[1] not in {"commands", "experimental", "modular_pipelines"} and not parts[-1].startswith("test")


hiddenimports = [
    "diffusers.pipelines",
    "diffusers.pipelines.pipeline_utils",
    "diffusers.configuration_utils",
    "diffusers.image_processor",
    "diffusers.video_processor",
    "diffusers.callbacks",
]
for _pkg in _PACKAGES:
    hiddenimports += collect_submodules(f"diffusers.{_pkg}", filter=_wanted)

datas = copy_metadata("diffusers")
for _dist in ("requests", "filelock", "numpy", "huggingface_hub", "safetensors", "regex", "Pillow", "torch"):
    try:
        datas += copy_metadata(_dist)
    except Exception:
        pass
