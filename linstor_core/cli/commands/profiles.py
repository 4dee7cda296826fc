"""``profiles``: turn the operator's profiles file into resource groups (or only validate it)."""

from __future__ import annotations

import argparse

from linstor_core.cli import placement
from linstor_core.cli.context import Context
from linstor_core.cli.parser import Subparsers, add_command, add_group
from linstor_core.profiles import ProfilesNotApplied, apply_profiles, load_profiles

_FILE_HELP = "TOML profiles file, e.g. /etc/linstor-bundle/profiles.toml"


def apply(args: argparse.Namespace, ctx: Context) -> None:
    try:
        lines = apply_profiles(ctx.client, load_profiles(args.file))
    except ProfilesNotApplied as failed:  # what did happen goes out first, then the error
        ctx.out.data({"changes": failed.lines}, "\n".join(failed.lines))
        raise
    ctx.out.data({"changes": lines}, "\n".join(lines))


def check(args: argparse.Namespace, ctx: Context) -> None:
    profiles = load_profiles(args.file)
    text = "\n".join(
        [f"{args.file}: {len(profiles)} valid profile(s)"]
        + [f"  {p.name}: " + (placement.describe(p.select_filter).replace("\n", "; ") or "LINSTOR defaults")
           for p in profiles.values()]
    )
    ctx.out.data({"file": args.file, "profiles": list(profiles.values())}, text)


def register(commands: Subparsers) -> None:
    group = add_group(
        commands, "profiles", summary="apply or check the profiles file (resource groups)",
        description="Profiles are named sets of placement rules (place count, storage pools, layers,\n"
        "replicas on same/different, DRBD options) that the platforms create disks from. Each\n"
        "profile becomes the LINSTOR resource group of the same name.",
    )
    parser = add_command(
        group, "apply", summary="create or update one resource group per profile",
        description="Validate FILE, then create missing resource groups and update changed ones on the\n"
        "configured controller. Prints one line per profile: created, updated (with what changed)\n"
        "or unchanged. Resource groups that are not in FILE are left alone. A profile the\n"
        "controller refuses is printed as failed, the others are still applied, and the exit status\n"
        "is 1; settings a profile does not name are kept on an existing group.",
        examples=("profiles apply /etc/linstor-bundle/profiles.toml",
                  "--controllers linstor://10.43.70.1 profiles apply profiles.toml"),
        idempotent="yes: a second apply of the same file prints 'unchanged' for every profile.",
        handler=apply,
    )
    parser.add_argument("file", metavar="FILE", help=_FILE_HELP)

    parser = add_command(
        group, "check", summary="validate the profiles file only",
        description="Validate FILE against the profiles schema and print each profile's rules. Contacts\n"
        "no controller; an invalid file is reported with the profile, the field and the fix.",
        examples=("profiles check /etc/linstor-bundle/profiles.toml",),
        idempotent="yes: read-only.", handler=check,
    )
    parser.add_argument("file", metavar="FILE", help=_FILE_HELP)
