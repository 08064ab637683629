"""Payment's event consumer: Auth's UserExportRequested gets the user's payments exported."""

from finflow import exports
from finflow.events import consumer_handler
from functions.payment import export
from functions.payment.logic import obs

handler = consumer_handler(obs, {"UserExportRequested": exports.consumer("payment", export.part)})
