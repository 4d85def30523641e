"""PyInstaller hook for sentencepiece: its normalization tables (package_data/*.bin) are read at run time when a
model is trained, which `make-demo-model` does for the demo T5 tokenizer ("No precompiled charsmap is found:
nmt_nfkc" without them)."""

from PyInstaller.utils.hooks import collect_data_files, copy_metadata

datas = collect_data_files("sentencepiece", subdir="package_data") + copy_metadata("sentencepiece")
