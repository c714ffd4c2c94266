"""moto_server with one fix, for the tests that turn on its IAM enforcement.

With enforcement on, moto recomputes each request's SigV4 signature. For a
form-encoded body (the query protocol of EC2, IAM, RDS, STS) the Flask server
has already parsed the form, so moto signs a re-encoding of the parsed fields,
with spaces as '+', while the AWS SDK for Rust signs the bytes it sent, with
'%20' (both are valid form encodings; AWS itself checks the bytes). Every call
with a space in a parameter would fail as AuthFailure. Keeping the raw bytes
lets moto check the signature of what was actually sent. Run as moto_server.
"""

import sys

import werkzeug.wrappers


def _raw_data(request):
    # Cache the raw bytes before the form parser consumes the stream; the
    # parser then reads the cached copy, so moto still sees its fields.
    return request.get_data(cache=True, parse_form_data=False)


werkzeug.wrappers.Request.data = property(_raw_data)

from moto.server import main  # noqa: E402  (after the patch, on purpose)

if __name__ == "__main__":
    sys.exit(main())
