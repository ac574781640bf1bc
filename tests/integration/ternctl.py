"""ternctl.py: control files of a test instance (qmail's control/
directory) for the Python tests.

    import ternctl
    ternctl.write(ROOT, "databytes", "200000\\n")   # ROOT/control/databytes
    ternctl.write(ROOT, "databytes", None)         # removed (if there)
"""
import os


def write(root, name, text):
    path = os.path.join(root, "control", name)
    if text is None:
        if os.path.exists(path):
            os.unlink(path)
    else:
        with open(path, "w") as f:
            f.write(text)
