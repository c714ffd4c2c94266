"""CodeConnections (the source of a pipeline on GitHub, GitLab or Bitbucket),
which moto 5.2.6 does not model at all: stored and answered as AWS documents
it. Imported by moto_server.py.

- CreateConnection, GetConnection, ListConnections, DeleteConnection,
  TagResource, UntagResource and ListTagsForResource, in the Smithy RPC v2
  CBOR protocol the SDK speaks, authorized like every moto request
  (`codeconnections:Operation`).
- A connection starts PENDING, as in AWS: it becomes AVAILABLE only once
  someone completes the provider's handshake in the console (installs the
  GitHub App), which no API does. `POST /moto-api/codeconnections/handshake`
  with a connection's ARN as the body plays that step.
"""

import re
import sys
import types
import uuid

from boto3 import Session
from moto import backend_index
from moto.core.base_backend import BackendDict, BaseBackend
from moto.core.cbor import CBORDecoder, CBOREncoder
from moto.core.responses import BaseResponse
from moto.moto_api._internal import urls as moto_api_urls

PROVIDERS = {"Bitbucket", "GitHub", "GitHubEnterpriseServer", "GitLab", "GitLabSelfManaged", "AzureDevOps"}
# Providers reached through a host (a self-managed server), not the public service.
HOSTED = {"GitHubEnterpriseServer", "GitLabSelfManaged"}


class ConnectionsError(Exception):
    """An error as CodeConnections answers it (its code and message)."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code, self.message = code, message


def _not_found(arn):
    return ConnectionsError("ResourceNotFoundException", f"Resource not found: {arn}")


def _invalid(message):
    return ConnectionsError("InvalidInputException", message)


class CodeConnectionsBackend(BaseBackend):
    """The connections of one account and region, by ARN."""

    def __init__(self, region_name, account_id):
        super().__init__(region_name, account_id)
        self.connections = {}
        self.tags = {}

    def create_connection(self, name, provider, host_arn, tags):
        if not name or len(name) > 32:
            raise _invalid("ConnectionName must be 1 to 32 characters")
        if provider is None and host_arn is None:
            raise _invalid("Either ProviderType or HostArn must be specified")
        if provider is not None and provider not in PROVIDERS:
            raise _invalid(f"ProviderType {provider} is not supported")
        if provider in HOSTED and host_arn is None:
            raise _invalid(f"A {provider} connection needs a HostArn")
        arn = f"arn:aws:codeconnections:{self.region_name}:{self.account_id}:connection/{uuid.uuid4()}"
        self.connections[arn] = {
            "ConnectionName": name,
            "ConnectionArn": arn,
            "ProviderType": provider or "GitHubEnterpriseServer",
            "OwnerAccountId": self.account_id,
            "ConnectionStatus": "PENDING",
        }
        if host_arn is not None:
            self.connections[arn]["HostArn"] = host_arn
        self.tags[arn] = {t["Key"]: t["Value"] for t in tags}
        return arn

    def get(self, arn):
        if arn not in self.connections:
            raise _not_found(arn)
        return self.connections[arn]

    def delete(self, arn):
        self.get(arn)
        del self.connections[arn]
        self.tags.pop(arn, None)


codeconnections_backends = BackendDict(
    CodeConnectionsBackend,
    "codeconnections",
    use_boto3_regions=False,
    # The regions of its former name: botocore in moto's venv predates the new one.
    additional_regions=Session().get_available_regions("codestar-connections"),
)


def _cbor(status, value):
    headers = {"status": status, "Content-Type": "application/cbor", "smithy-protocol": "rpc-v2-cbor"}
    return status, headers, CBOREncoder().encode(value)


class CodeConnectionsResponse(BaseResponse):
    """The operations, in the Smithy RPC v2 CBOR protocol the SDK speaks
    (`POST /service/CodeConnections_20231201/operation/Op`, CBOR both ways)."""

    use_raw_body = True
    PREFIX = "/service/CodeConnections_20231201/operation/"

    def __init__(self):
        super().__init__(service_name="codeconnections")

    def _get_action(self):
        # moto routes by botocore's model of the service, which its venv's botocore lacks.
        path = self.path or ""
        return path[len(self.PREFIX) :] if path.startswith(self.PREFIX) else None

    def call_action(self):
        try:
            return super().call_action()
        except ConnectionsError as e:
            return _cbor(400, {"__type": f"com.amazonaws.codeconnections#{e.code}", "message": e.message})

    @property
    def input(self):
        return CBORDecoder().decode(self.body) if self.body else {}

    @property
    def backend(self):
        return codeconnections_backends[self.current_account][self.region]

    def create_connection(self):
        given = self.input
        arn = self.backend.create_connection(
            given.get("ConnectionName"), given.get("ProviderType"), given.get("HostArn"), given.get("Tags") or []
        )
        tags = [{"Key": k, "Value": v} for k, v in self.backend.tags[arn].items()]
        return _cbor(200, {"ConnectionArn": arn, "Tags": tags})

    def get_connection(self):
        return _cbor(200, {"Connection": self.backend.get(self.input.get("ConnectionArn"))})

    def list_connections(self):
        given = self.input
        provider, host = given.get("ProviderTypeFilter"), given.get("HostArnFilter")
        found = [
            c
            for c in self.backend.connections.values()
            if (provider is None or c["ProviderType"] == provider) and (host is None or c.get("HostArn") == host)
        ]
        start = int(given.get("NextToken") or 0)
        size = int(given.get("MaxResults") or 50)
        page = {"Connections": found[start : start + size]}
        if start + size < len(found):
            page["NextToken"] = str(start + size)
        return _cbor(200, page)

    def delete_connection(self):
        self.backend.delete(self.input.get("ConnectionArn"))
        return _cbor(200, {})

    def tag_resource(self):
        given = self.input
        arn = given.get("ResourceArn")
        self.backend.get(arn)
        self.backend.tags[arn].update({t["Key"]: t["Value"] for t in given.get("Tags") or []})
        return _cbor(200, {})

    def untag_resource(self):
        given = self.input
        arn = given.get("ResourceArn")
        self.backend.get(arn)
        for key in given.get("TagKeys") or []:
            self.backend.tags[arn].pop(key, None)
        return _cbor(200, {})

    def list_tags_for_resource(self):
        arn = self.input.get("ResourceArn")
        self.backend.get(arn)
        return _cbor(200, {"Tags": [{"Key": k, "Value": v} for k, v in self.backend.tags[arn].items()]})


def _handshake(request, full_url, headers):
    """Plays the console's handshake: the connection named by the body becomes AVAILABLE."""
    arn = request.data.decode().strip()
    region = arn.split(":")[3] if arn.count(":") >= 5 else ""
    account = arn.split(":")[4] if arn.count(":") >= 5 else ""
    try:
        codeconnections_backends[account][region].get(arn)["ConnectionStatus"] = "AVAILABLE"
    except (ConnectionsError, KeyError):
        return 404, {}, f"no connection {arn}"
    return 200, {}, "AVAILABLE"


# moto finds a service's backend as the module `moto.SERVICE` and its URLs as `moto.SERVICE.urls`.
_module = types.ModuleType("moto.codeconnections")
_module.codeconnections_backends = codeconnections_backends
_urls = types.ModuleType("moto.codeconnections.urls")
_urls.url_bases = [r"https?://codeconnections\.(.+)\.amazonaws\.com"]
_urls.url_paths = {"{0}/service/CodeConnections_20231201/operation/(?P<operation>[A-Za-z]+)$": CodeConnectionsResponse.dispatch}
CodeConnectionsBackend.__module__ = "moto.codeconnections.models"
sys.modules["moto.codeconnections"] = _module
sys.modules["moto.codeconnections.models"] = _module
sys.modules["moto.codeconnections.urls"] = _urls
backend_index.backend_url_patterns.append(("codeconnections", re.compile(_urls.url_bases[0])))
moto_api_urls.url_paths["{0}/moto-api/codeconnections/handshake"] = _handshake
