"""This machine's CPU in one line, without importing TensorFlow.

Why it exists: recorded figures name the machine they were measured on
(:func:`genlab.config.machine` adds the GPU, which needs TensorFlow), and the
course tools that load no TensorFlow (the rendered notebook pages of
:mod:`genlab.course.html_docs`) name it too.
"""

import os
import platform


def cpu(cpuinfo="/proc/cpuinfo"):
    """"CPU model, architecture, N CPU cores": the model from ``cpuinfo`` (Linux), else the platform's."""
    model = platform.processor() or platform.machine()
    try:
        with open(cpuinfo, encoding="utf-8") as lines:
            model = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), model)
    except OSError:
        pass
    return f"{model}, {platform.machine()}, {os.cpu_count()} CPU cores"
