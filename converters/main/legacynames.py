"""The member names a node's repository tree becomes in a legacy archive, under the reading policy.

A main_XXXX node's files are a tree in ``repository_metadata``; a legacy
archive holds them as members ``nodes/aa/bb/rest/(path|raw_input)/<rel>``.
What a legacy reader (reportgen's ``converters.containers`` first of all)
refuses to read cannot be written: a Windows device name (``aux/out.dat``,
``CON``), a backslash, a segment over 255 bytes, a member name over 1024
bytes, or two names equal once case and Unicode form are ignored (``A.txt``
beside ``a.txt``: only the first, in sorted order, can be held).  POSIX and
AiiDA allow every one of them, so a main archive may hold them: here they are
*unholdable* names, found without raising, so that ``archive validate`` warns
of each and the way down can name them all, or leave them out under
``--allow-loss`` (``main_to_legacy``).

What decides where a member lands (the node's uuid, the tree's shape, a
name that is empty, ``.``, ``..`` or holds ``/``) is refused outright, as
before: no policy can make such a tree into members.
"""

from __future__ import annotations

from dataclasses import dataclass

from converters.containers import Limits, MemberNames, classify_name
from converters.errors import BadInputError
from converters.main.problems import shown
from converters.main.schema import DB_NAME, KEY_FORM, UUID_FORM

_LIMITS = Limits()  # the reading side's defaults: what `reportgen archive validate` applies to the output
CALCJOB_TYPE = "process.calculation.calcjob."  # AiiDA 1.x reads these nodes' files from raw_input/
SHOWN = 20  # unholdable names named one by one in a refusal or the notes; the rest are counted
WHY = "a legacy archive cannot hold safely (its readers refuse such names)"


@dataclass(frozen=True)
class Unholdable:
    """A node's file (or empty folder) whose member name the legacy reading policy refuses."""

    pk: int
    uuid: str
    rel: str  # its path in the node's tree
    reason: str  # the policy's words, with the name shown
    key: str | None  # its blob; None for an empty folder

    @property
    def where(self) -> str:
        return f"db_dbnode[{self.pk}].repository_metadata"

    def describe(self) -> str:
        return f"{self.where}: node {self.uuid}: {self.reason}"


def node_folder(file: str, pk: int, uuid: object, node_type: object = None) -> str:
    """``nodes/aa/bb/rest/path`` of one node (``raw_input`` for a CalcJobNode): its uuid becomes
    a member name, so it must be a UUID."""
    if not isinstance(uuid, str) or not UUID_FORM.match(uuid):
        raise BadInputError(file, f"db_dbnode[{pk}].uuid: {shown(uuid)} is not a UUID, and a legacy archive names the node's folder by it", DB_NAME)
    section = "raw_input" if isinstance(node_type, str) and node_type.startswith(CALCJOB_TYPE) else "path"
    return f"nodes/{uuid[:2]}/{uuid[2:4]}/{uuid[4:]}/{section}"


def is_litter(name: str) -> bool:
    """A member the legacy reader drops as macOS junk (``.DS_Store`` inside a node folder)."""
    return classify_name(name, False) == "junk"


def node_members(
    file: str, pk: int, uuid: object, tree: object, policy: bool = True, node_type: object = None,
    unholdable: list[Unholdable] | None = None, skip: frozenset[str] = frozenset(),
) -> list[tuple[str, str | None]]:  # fmt: skip
    """Every member of one node in the order they are written: ``(name, blob key)`` for a file,
    ``(name, None)`` for an empty folder (a node without files gets its empty ``path/``:
    AiiDA 1.x's import refuses an archive that lacks any node's folder).

    ``tree``: the parsed ``repository_metadata``.  Children in sorted order, depth first;
    iterative, since a tree may be deep.  The uuid, the tree's shape and each name's
    segments are always checked (they decide where a member lands).  With ``policy`` each
    name also goes through the listing policy of ``converters.containers``, folders
    included, so that what is written here can be read back there: a file or empty folder
    the policy refuses (or that lies in a folder it refuses) is appended to ``unholdable``
    and not returned (without ``unholdable``, the first one is refused).  ``skip``: tree paths
    left out without a check (the unholdable names found before, when the members are made
    again to be written)."""
    base = node_folder(file, pk, uuid, node_type)
    if tree is None or tree == {}:
        return [(base, None)]  # most nodes: no files, nothing more to check
    where = f"db_dbnode[{pk}].repository_metadata"
    members: list[tuple[str, str | None]] = []
    names = None  # the policy's state, made on the first name
    # (path, entry, why the policy refuses a folder above it: every name inside is refused too)
    stack: list[tuple[str, object, str]] = [("", tree, "")]
    while stack:
        rel, entry, above = stack.pop()
        key, children = _tree_entry(file, where, rel, entry)
        refused = ""
        if above:
            refused = f"{shown(rel)}: inside a folder the legacy reader refuses: {above}"
        elif rel and policy:
            names = names or MemberNames(file, "zip", _LIMITS)  # type: ignore[arg-type]  # file: for its errors only
            refused = _refusal(names, base, rel, key is None)
        if key is not None or not children:  # a member: a file, or an empty folder
            if refused:
                if unholdable is None:
                    raise BadInputError(file, f"{where}: node {uuid}: {refused}; such a name is one {WHY}", DB_NAME)
                unholdable.append(Unholdable(pk, str(uuid), rel, refused, key))
            elif rel not in skip:
                members.append((f"{base}/{rel}" if rel else base, key))
        for name in sorted(children or (), reverse=True):  # popped in sorted order
            if not name or "/" in name or name in (".", ".."):
                raise BadInputError(file, f"{where}: node {uuid}: unsafe name {name!r} in folder {rel or '/'!r}", DB_NAME)
            stack.append((f"{rel}/{name}" if rel else name, children[name], above or refused))
    if not members:  # every file left out: the node still needs its folder
        members.append((base, None))
    return members


def _tree_entry(file: str, where: str, rel: str, entry: object) -> tuple[str | None, dict | None]:
    """``(key, None)`` for a file object, ``(None, children)`` for a directory object."""
    if not isinstance(entry, dict) or set(entry) - {"o", "k"} or ("o" in entry and "k" in entry) or ("k" in entry and not rel):
        raise BadInputError(file, f"{where}: {rel or '/'!r} is not a {'file or ' if rel else ''}directory object", DB_NAME)
    if "k" in entry:
        key = entry["k"]
        if not isinstance(key, str) or not KEY_FORM.match(key):
            raise BadInputError(file, f"{where}: {rel!r}: blob key {shown(key)} is not a sha256", DB_NAME)
        return key, None
    children = entry.get("o", {})
    if not isinstance(children, dict):
        raise BadInputError(file, f"{where}: {rel or '/'!r}: 'o' is not an object", DB_NAME)
    return None, children


def _refusal(names: MemberNames, base: str, rel: str, is_dir: bool) -> str:
    """Why the reading policy refuses this name ('' when it reads it), in the node's own terms."""
    name = f"{base}/{rel}"
    try:
        kept = names.add(name, is_dir, 0)
    except BadInputError as exc:
        # the policy speaks of the member it would read; the node's own names say more here
        reason = exc.reason.replace(base + "/", "")
        if repr(rel) not in reason:  # "unsafe member name": say which, and how long it is
            return f"{shown(rel)} ({len(rel.encode('utf-8', 'surrogatepass'))} bytes): {reason}"
        return f"{shown(rel)}: {reason}"  # "names collide ...: 'A.txt' and 'a.txt'": this one is the second
    if kept is None and not is_litter(name):  # read past with a warning: lost on the way back
        return f"{shown(rel)}: the legacy reader ignores such a name"
    return ""


def listed(found: list[Unholdable], count: int) -> list[str]:
    """The first ``SHOWN`` unholdable names, one line each, and how many more there are."""
    lines = [u.describe() for u in found[:SHOWN]]
    if count > SHOWN:
        lines.append(f"{count - SHOWN} more such files")
    return lines
