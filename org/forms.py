from crispy_forms.helper import FormHelper
from django import forms
from django.contrib import messages
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError


class LoginForm(AuthenticationForm):
    username = forms.CharField(
        label="用户名", max_length=150, widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"})
    )
    password = forms.CharField(
        label="密码", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )

    error_messages = {
        "invalid_login": "用户名或密码不正确。",
        "inactive": "该账号已停用。",
    }


class CrispyForm(forms.Form):
    """A crispy-forms form rendered inside the template's own ``<form>`` tag, beside its buttons and token."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


def attach_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Put a service's ValidationError on the form: per field where the form has the field, else on top."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def error_messages(request, error: ValidationError) -> None:
    """A service's refusal as one error message per line, for a page that redirects."""
    for message in error.messages:
        messages.error(request, message)
