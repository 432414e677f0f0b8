"""Terraform for the tests: the binary and the hashicorp/aws provider from this machine.

Terraform runs offline: the provider comes from a filesystem mirror (``/opt/tf-plugins``, or
``DSSHARE_TF_PLUGIN_MIRROR``) through a CLI configuration written into the working folder,
and every AWS_/TF_ variable of the test process is dropped so nothing reaches real AWS.
Where terraform or the provider is missing, :func:`terraform_or_skip` skips the test with
the reason, except under CI (``CI`` set), where it fails.

Provider blocks pointed at the sandbox come from
:func:`dsshare.inventory.adoption.sandbox_override` (adopted files) or :func:`provider_block`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from dsshare.inventory.adoption import sandbox_provider_settings

PROVIDER_MIRROR = Path(os.environ.get("DSSHARE_TF_PLUGIN_MIRROR", "/opt/tf-plugins"))
PROVIDER_DIR = PROVIDER_MIRROR / "registry.terraform.io" / "hashicorp" / "aws"
def terraform_or_skip() -> tuple[str, str]:
    """The terraform binary and the newest mirrored provider version, or skip (fail under CI)."""
    binary = shutil.which("terraform")
    versions = sorted(p.name for p in PROVIDER_DIR.iterdir()) if PROVIDER_DIR.is_dir() else []
    reason = None
    if binary is None:
        reason = "terraform is not installed (not on PATH)"
    elif not versions:
        reason = f"the hashicorp/aws provider is not in the filesystem mirror {PROVIDER_DIR}"
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must run the Terraform tests")
        pytest.skip(reason)
    assert binary is not None
    return binary, versions[-1]


def provider_block(endpoint: str, *, region: str = "us-east-1", alias: str | None = None,
                   role_arn: str | None = None) -> str:
    """A ``provider "aws"`` block for the sandbox (optionally an alias assuming a role)."""
    lines = ['provider "aws" {']
    if alias:
        lines.append(f'  alias                       = "{alias}"')
    lines.append(f'  region                      = "{region}"')
    lines += sandbox_provider_settings(endpoint)
    if role_arn:
        lines += ["  assume_role {", f'    role_arn     = "{role_arn}"',
                  '    session_name = "terraform"', "  }"]
    lines.append("}")
    return "\n".join(lines) + "\n"


class Terraform:
    """``terraform`` in one working folder, offline, with the mirror's provider."""

    def __init__(self, binary: str, workdir: Path) -> None:
        self.binary = binary
        self.workdir = workdir
        config = workdir.parent / f"{workdir.name}.tfrc"
        config.write_text(
            "provider_installation {\n"
            f'  filesystem_mirror {{\n    path = "{PROVIDER_MIRROR}"\n  }}\n'
            "}\n"
        )
        self.env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("AWS_", "TF_")) and key != "CHECKPOINT_DISABLE"
        }
        # TF_LOG and TF_LOG_PATH pass through, to debug the provider's calls.
        self.env.update({k: v for k, v in os.environ.items() if k in ("TF_LOG", "TF_LOG_PATH")})
        self.env.update(
            TF_CLI_CONFIG_FILE=str(config),
            TF_IN_AUTOMATION="1",
            TF_INPUT="0",
            CHECKPOINT_DISABLE="1",
            TF_DATA_DIR=str(workdir / ".terraform"),
            AWS_CONFIG_FILE="/dev/null",
            AWS_SHARED_CREDENTIALS_FILE="/dev/null",
            AWS_EC2_METADATA_DISABLED="true",
        )

    def run(self, *args: str, ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess[str]:
        """Run ``terraform <args> -no-color``; assert its exit code is in ``ok``."""
        done = subprocess.run(  # noqa: S603 - terraform from PATH, our own arguments
            [self.binary, *args, "-no-color"],
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert done.returncode in ok, (
            f"terraform {' '.join(args)} exited {done.returncode}\n"
            f"--- stdout\n{done.stdout[-6000:]}\n--- stderr\n{done.stderr[-6000:]}"
        )
        return done

    def outputs(self) -> dict[str, Any]:
        """The root module's outputs, from the local state file (no terraform run)."""
        state = json.loads((self.workdir / "terraform.tfstate").read_text())
        return {name: value["value"] for name, value in state["outputs"].items()}

    def state(self) -> dict[str, Any]:
        """``terraform show -json`` of the state."""
        data: dict[str, Any] = json.loads(self.run("show", "-json").stdout)
        return data
