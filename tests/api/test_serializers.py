"""Fields built once per serializer class, copied for each instance: never shared bindings."""

from licensing.api.serializers import StaffApplicationSerializer


def _all_fields(serializer, path=""):
    """Every field under `serializer`, with where it sits."""
    for name, field in serializer.fields.items():
        yield f"{path}{name}", field
        child = getattr(field, "child", None)
        if child is not None and hasattr(child, "fields"):
            yield from _all_fields(child, f"{path}{name}.")
        elif hasattr(field, "fields"):
            yield from _all_fields(field, f"{path}{name}.")


def test_two_instances_share_no_field_and_each_field_is_bound_to_its_own_parent():
    first, second = StaffApplicationSerializer(), StaffApplicationSerializer()
    ours, theirs = dict(_all_fields(first)), dict(_all_fields(second))
    assert ours.keys() == theirs.keys() and len(ours) > 50
    for path, field in ours.items():
        assert field is not theirs[path], path
        # Walking up from any field reaches its own serializer, never the other one.
        root = field
        while root.parent is not None:
            root = root.parent
        assert root is first, path
