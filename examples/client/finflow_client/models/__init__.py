"""Contains all the data models used in inputs/outputs"""

from .alert import Alert
from .alert_evidence import AlertEvidence
from .alert_page import AlertPage
from .alert_severity import AlertSeverity
from .alert_status import AlertStatus
from .aml_report import AmlReport
from .aml_report_by_rule import AmlReportByRule
from .aml_report_by_status import AmlReportByStatus
from .client_credentials import ClientCredentials
from .create_v2 import CreateV2
from .currency_figures import CurrencyFigures
from .currency_figures_by_kind import CurrencyFiguresByKind
from .daily import Daily
from .daily_totals import DailyTotals
from .day import Day
from .decision_request import DecisionRequest
from .decision_request_decision import DecisionRequestDecision
from .entry import Entry
from .entry_kind import EntryKind
from .entry_page import EntryPage
from .erasure import Erasure
from .erasure_request import ErasureRequest
from .export_status import ExportStatus
from .export_status_parts import ExportStatusParts
from .export_status_status import ExportStatusStatus
from .figure import Figure
from .funnel_submissions import FunnelSubmissions
from .funnel_users import FunnelUsers
from .kyc_funnel import KycFunnel
from .kyc_list_aml_alerts_status_type_0 import KycListAmlAlertsStatusType0
from .kyc_list_submissions_status_type_0 import KycListSubmissionsStatusType0
from .kyc_status_view import KycStatusView
from .kyc_status_view_kyc_status import KycStatusViewKycStatus
from .login_request import LoginRequest
from .notification import Notification
from .notification_data import NotificationData
from .notification_page import NotificationPage
from .payment import Payment
from .payment_kind import PaymentKind
from .payment_page import PaymentPage
from .payment_status import PaymentStatus
from .preferences import Preferences
from .preferences_out import PreferencesOut
from .problem_body import ProblemBody
from .refresh_request import RefreshRequest
from .register_request import RegisterRequest
from .reporting_payment import ReportingPayment
from .resolve_request import ResolveRequest
from .reviewed_submission import ReviewedSubmission
from .reviewed_submission_status import ReviewedSubmissionStatus
from .roles_request import RolesRequest
from .roles_request_roles_item import RolesRequestRolesItem
from .rule_figures import RuleFigures
from .rule_figures_amounts import RuleFiguresAmounts
from .rule_figures_by_severity import RuleFiguresBySeverity
from .rule_figures_by_status import RuleFiguresByStatus
from .search_result import SearchResult
from .search_result_totals import SearchResultTotals
from .service_token import ServiceToken
from .submission import Submission
from .submission_page import SubmissionPage
from .submission_status import SubmissionStatus
from .submit_request import SubmitRequest
from .submit_request_document_type import SubmitRequestDocumentType
from .summary import Summary
from .summary_currencies import SummaryCurrencies
from .token_pair import TokenPair
from .transfer_request import TransferRequest
from .upload_request import UploadRequest
from .upload_request_content_type import UploadRequestContentType
from .upload_request_document_type import UploadRequestDocumentType
from .upload_ticket import UploadTicket
from .upload_ticket_fields import UploadTicketFields
from .user import User
from .user_figures import UserFigures
from .user_figures_by_kyc_status import UserFiguresByKycStatus
from .wallet import Wallet
from .wallet_amount_request import WalletAmountRequest
from .wallet_figures import WalletFigures
from .wallet_figures_by_currency import WalletFiguresByCurrency
from .wallet_figures_by_currency_additional_property import WalletFiguresByCurrencyAdditionalProperty
from .wallet_list import WalletList
from .wallet_status import WalletStatus

__all__ = (
    "Alert",
    "AlertEvidence",
    "AlertPage",
    "AlertSeverity",
    "AlertStatus",
    "AmlReport",
    "AmlReportByRule",
    "AmlReportByStatus",
    "ClientCredentials",
    "CreateV2",
    "CurrencyFigures",
    "CurrencyFiguresByKind",
    "Daily",
    "DailyTotals",
    "Day",
    "DecisionRequest",
    "DecisionRequestDecision",
    "Entry",
    "EntryKind",
    "EntryPage",
    "Erasure",
    "ErasureRequest",
    "ExportStatus",
    "ExportStatusParts",
    "ExportStatusStatus",
    "Figure",
    "FunnelSubmissions",
    "FunnelUsers",
    "KycFunnel",
    "KycListAmlAlertsStatusType0",
    "KycListSubmissionsStatusType0",
    "KycStatusView",
    "KycStatusViewKycStatus",
    "LoginRequest",
    "Notification",
    "NotificationData",
    "NotificationPage",
    "Payment",
    "PaymentKind",
    "PaymentPage",
    "PaymentStatus",
    "Preferences",
    "PreferencesOut",
    "ProblemBody",
    "RefreshRequest",
    "RegisterRequest",
    "ReportingPayment",
    "ResolveRequest",
    "ReviewedSubmission",
    "ReviewedSubmissionStatus",
    "RolesRequest",
    "RolesRequestRolesItem",
    "RuleFigures",
    "RuleFiguresAmounts",
    "RuleFiguresBySeverity",
    "RuleFiguresByStatus",
    "SearchResult",
    "SearchResultTotals",
    "ServiceToken",
    "Submission",
    "SubmissionPage",
    "SubmissionStatus",
    "SubmitRequest",
    "SubmitRequestDocumentType",
    "Summary",
    "SummaryCurrencies",
    "TokenPair",
    "TransferRequest",
    "UploadRequest",
    "UploadRequestContentType",
    "UploadRequestDocumentType",
    "UploadTicket",
    "UploadTicketFields",
    "User",
    "UserFigures",
    "UserFiguresByKycStatus",
    "Wallet",
    "WalletAmountRequest",
    "WalletFigures",
    "WalletFiguresByCurrency",
    "WalletFiguresByCurrencyAdditionalProperty",
    "WalletList",
    "WalletStatus",
)
