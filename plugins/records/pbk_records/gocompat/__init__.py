"""The Go runtime behaviour PocketBase's fields rely on, re-implemented in plain Python.

Framework-free (nothing from ``pbk_sdk`` or the rest of ``pbk_records``), one module per
Go package or PocketBase helper, each checked against the PocketBase 0.40.6 binary:

* ``strconv``: numbers as Go prints them (``'f'``/``'g'`` shortest, ``fmt``'s ``%v``,
  ``encoding/json``) and ``strconv.ParseFloat``;
* ``cast``: spf13/cast's ``ToString``/``ToFloat64``/``ToBool`` and ``list.ToUniqueStringSlice``;
* ``jsonenc``: JSON as ``encoding/json`` writes it, and a decoder as strict as Go's;
* ``timelayout``: ``time.Parse`` over a tokenised layout; ``datetimes``: PocketBase's
  ``types.DateTime`` (the layouts ``cast.ToTime`` tries, the stored format, Go's outputs);
* ``regexp_classes``, ``regexp_syntax``, ``regexp``: Go's RE2 syntax with Go's errors,
  matched by RE2 itself (``google-re2``); ``random_by_regex``: ``security.RandomStringByRegex``.

govalidator's email and URL formats, ``is.Domain`` and ``strconv.Quote`` are the SDK's
(``pbk_sdk.formats``): settings and auth check the same formats.
"""
