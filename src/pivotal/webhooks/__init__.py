"""Webhooks. For receivers: ``pivotal.webhooks.verify(payload, headers, secret)`` checks a
delivery's signature (SPEC §8.3, §11) and raises ``WebhookVerificationError``.

The server's modules beside this file (events, signing, delivery, router) are not
imported here, so verifying a webhook loads no server code.
"""

from pivotal.client.webhooks import WebhookVerificationError, verify

__all__ = ["WebhookVerificationError", "verify"]
