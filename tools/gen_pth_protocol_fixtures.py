#!/usr/bin/env python3
"""Writes crates/videomae/tests/fixtures/pth_protocols/p{2,3,4,5}.pth: one
tiny checkpoint in the layout of torch.save, pickled with each protocol
torch can use (torch.save defaults to 2; pickle_protocol= chooses another);
and legacy.pth, the same in the format before torch 1.6
(_use_new_zipfile_serialization=False).

Stdlib only, no torch: fake `torch` and `torch._utils` modules are put in
sys.modules so that pickle names the same globals torch.save names
(torch._utils._rebuild_tensor_v2, torch.FloatStorage, ...), storages are
written through persistent_id as ('storage', type, key, location, numel),
and the zip is laid out like torch's (<archive>/data.pkl, data/<key>,
byteorder, version, .data/serialization_id), entries stored.

The Rust test (checkpoint/pth/tests.rs) checks every file against the same
hand-known values, so the files only need regenerating if this script
changes:

    python3 tools/gen_pth_protocol_fixtures.py
"""

import argparse
import collections
import io
import os
import pickle
import struct
import sys
import types
import zipfile

OUT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)),
    "..", "crates", "videomae", "tests", "fixtures", "pth_protocols",
)

torch = types.ModuleType("torch")
torch_utils = types.ModuleType("torch._utils")


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad,
                       backward_hooks, metadata=None):
    raise RuntimeError("never called: the files are only written")


_rebuild_tensor_v2.__module__ = "torch._utils"
torch_utils._rebuild_tensor_v2 = _rebuild_tensor_v2
torch._utils = torch_utils
for name in ["FloatStorage", "HalfStorage", "BFloat16Storage", "DoubleStorage",
             "LongStorage"]:
    setattr(torch, name, type(name, (), {"__module__": "torch"}))
sys.modules["torch"] = torch
sys.modules["torch._utils"] = torch_utils


class Storage:
    """A storage: raw little-endian bytes under data/<key>."""

    def __init__(self, cls, key, fmt, values):
        self.cls, self.key = cls, key
        self.numel = len(values)
        if fmt == "bf16":
            self.data = b"".join(struct.pack("<f", v)[2:] for v in values)
        else:
            self.data = struct.pack("<%d%s" % (len(values), fmt), *values)


class Tensor:
    """A view of a storage, pickled as torch pickles a plain tensor."""

    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, tuple(size), tuple(stride), False,
                     collections.OrderedDict())

    def __reduce_ex__(self, protocol):
        return (_rebuild_tensor_v2, self.args)


class Pickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            return ("storage", obj.cls, obj.key, "cpu", obj.numel)
        return None


def checkpoint():
    """The object saved, and its storages."""
    s0 = Storage(torch.FloatStorage, "0", "f", [1, 2, 3, 4, 5, 6])
    s1 = Storage(torch.HalfStorage, "1", "e", [0.5, -1.25, 2.0])
    s2 = Storage(torch.BFloat16Storage, "2", "bf16", [1.0, -0.5, 3.0])
    s3 = Storage(torch.DoubleStorage, "3", "d", [0.1, 1e-3])
    s4 = Storage(torch.LongStorage, "4", "q", [7])
    state = collections.OrderedDict()
    state["_orig_mod.w"] = Tensor(s0, 0, [2, 3], [3, 1])
    # The transpose of w, saved as a view of the same storage.
    state["_orig_mod.wt"] = Tensor(s0, 0, [3, 2], [1, 3])
    state["_orig_mod.row"] = Tensor(s0, 3, [3], [1])
    state["_orig_mod.half"] = Tensor(s1, 0, [3], [1])
    state["_orig_mod.bf16"] = Tensor(s2, 0, [3], [1])
    state["_orig_mod.double"] = Tensor(s3, 0, [2], [1])
    # torch keeps the module versions as an attribute (BUILD state).
    state._metadata = collections.OrderedDict([("", {"version": 1})])
    obj = {
        "model": state,
        # Objects outside the state dict stay opaque and unread.
        "args": argparse.Namespace(lr=0.1, model="vit_tiny"),
        "optimizer": {"state": {0: {"step": Tensor(s4, 0, [], [])}},
                      "param_groups": [{"params": [0, 1], "lr": 0.1}]},
        "epoch": 3,
        "extra": bytearray(b"bytes"),
    }
    return obj, [s0, s1, s2, s3, s4]


def write(path, protocol):
    obj, storages = checkpoint()
    buf = io.BytesIO()
    Pickler(buf, protocol=protocol).dump(obj)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        def entry(name, data):
            info = zipfile.ZipInfo("archive/" + name, date_time=(1980, 1, 1, 0, 0, 0))
            z.writestr(info, data)
        entry("data.pkl", buf.getvalue())
        entry("byteorder", b"little")
        for s in storages:
            entry("data/" + s.key, s.data)
        entry("version", b"3\n")
        entry(".data/serialization_id", b"0" * 40)


class LegacyPickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            # The sixth item is the view metadata of old storage views.
            return ("storage", obj.cls, obj.key, "cpu", obj.numel, None)
        return None


def write_legacy(path):
    """torch.serialization._legacy_save: magic number, version, system
    info, the object, the sorted storage keys; then each storage as an
    int64 element count and its little-endian bytes."""
    obj, storages = checkpoint()
    buf = io.BytesIO()
    pickle.dump(0x1950A86A20F9469CFC6C, buf, protocol=2)
    pickle.dump(1001, buf, protocol=2)
    pickle.dump({"protocol_version": 1001, "little_endian": True,
                 "type_sizes": {"short": 2, "int": 4, "long": 4}}, buf, protocol=2)
    LegacyPickler(buf, protocol=2).dump(obj)
    keys = sorted(s.key for s in storages)
    pickle.dump(keys, buf, protocol=2)
    by_key = {s.key: s for s in storages}
    for key in keys:
        buf.write(struct.pack("<q", by_key[key].numel))
        buf.write(by_key[key].data)
    with open(path, "wb") as f:
        f.write(buf.getvalue())


def main():
    os.makedirs(OUT, exist_ok=True)
    for protocol in [2, 3, 4, 5]:
        write(os.path.join(OUT, "p%d.pth" % protocol), protocol)
    write_legacy(os.path.join(OUT, "legacy.pth"))


if __name__ == "__main__":
    main()
