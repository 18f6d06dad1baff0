"""A person at a browser, over plain HTTP: follows the identity platform's sign-in pages from an MSAL `auth_uri`,
fills in each form (user name, password, consent, justification) and stops at the redirect back to the app.

Nothing here knows the sandbox's page layout beyond what a person would: a form with a password box is a
sign-in page, a form with a text area asks for a justification, a form with Accept/Cancel buttons asks for
consent. Redirects are never followed automatically, so the final `Location` (with `code` or `error`) is read
exactly as the app's redirect URI would receive it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

import requests

MAX_STEPS = 15

ACCEPT_WORDS = re.compile(r"accept|yes|allow|consent|sign ?in|next|continue|submit|request|send|approve|ok", re.I)
DECLINE_WORDS = re.compile(r"cancel|no\b|deny|decline|back|reject|other account|different", re.I)
ORGANIZATION_WORDS = re.compile(r"org(?:ani[sz]ation)?(?![a-z])|tenant|on.?behalf|for_all|everyone|admin", re.I)
USERNAME_WORDS = re.compile(r"login|user|email|upn|account|name", re.I)


@dataclass
class FormField:
    """One `<input>`, `<textarea>`, `<select>` or `<button>` of a form."""

    tag: str
    type: str
    name: str
    value: str
    checked: bool
    label: str = ""


@dataclass
class Form:
    """One `<form>` of a page."""

    action: str
    method: str
    fields: list[FormField] = field(default_factory=list)


class FormParser(HTMLParser):
    """Collects the forms of a page, their fields, and the page's visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.text: list[str] = []
        self._form: Form | None = None
        self._open: FormField | None = None  # a textarea, button or option being read
        self._skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {key.lower(): (value or "") for key, value in attrs}
        if tag in ("script", "style"):
            self._skip_depth += 1
            return
        if tag == "form":
            self._form = Form(action=attributes.get("action", ""), method=attributes.get("method", "get").lower())
            self.forms.append(self._form)
            return
        if self._form is None:
            return
        if tag == "input":
            self._form.fields.append(
                FormField(
                    tag="input",
                    type=attributes.get("type", "text").lower(),
                    name=attributes.get("name", ""),
                    value=attributes.get("value", ""),
                    checked="checked" in attributes,
                    label=attributes.get("aria-label", "")
                    or attributes.get("placeholder", "")
                    or attributes.get("id", ""),
                )
            )
        elif tag == "textarea":
            self._open = FormField("textarea", "textarea", attributes.get("name", ""), "", False)
            self._form.fields.append(self._open)
        elif tag == "button":
            self._open = FormField(
                "button",
                attributes.get("type", "submit").lower(),
                attributes.get("name", ""),
                attributes.get("value", ""),
                False,
            )
            self._form.fields.append(self._open)
        elif tag == "select":
            self._form.fields.append(FormField("select", "select", attributes.get("name", ""), "", False))
        elif tag == "option" and self._form.fields and self._form.fields[-1].tag == "select":
            select = self._form.fields[-1]
            if not select.value or "selected" in attributes:
                select.value = attributes.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag == "form":
            self._form = None
        elif tag in ("textarea", "button"):
            self._open = None

    def handle_data(self, data: str) -> None:
        if self._skip_depth:
            return
        if self._open is not None:
            if self._open.tag == "textarea":
                self._open.value += data
            else:
                self._open.label += data.strip()
        if data.strip():
            self.text.append(data.strip())


@dataclass
class SignInOutcome:
    """Where the browser ended up."""

    redirect: str | None
    """The final redirect to the app's redirect URI (or to any host other than the sandbox), if one happened."""
    pages: list[str]
    """The visible text of every HTML page shown, in order."""
    last_response: requests.Response | None = None

    @property
    def query(self) -> dict[str, str]:
        """The redirect's query parameters (what MSAL calls `auth_response`)."""
        if not self.redirect:
            return {}
        return dict(parse_qsl(urlsplit(self.redirect).query, keep_blank_values=True))

    def transcript(self) -> str:
        """Every page's text, for assertion messages."""
        return "\n---\n".join(self.pages) + f"\n--- final redirect: {self.redirect}"


@dataclass
class Person:
    """What the person at the browser knows and will do."""

    username: str
    password: str
    accept_consent: bool = True
    consent_for_organization: bool = False
    justification: str = "Tenure keeps our accounts in step with HR; I need it to work."


def drive_sign_in(session: requests.Session, auth_uri: str, redirect_uri: str, person: Person) -> SignInOutcome:
    """Opens `auth_uri` and answers every page as `person` would until the app's redirect URI is reached or a
    page offers nothing more to do."""
    pages: list[str] = []
    origin = urlsplit(auth_uri)[:2]
    response = session.get(auth_uri, allow_redirects=False, timeout=30)
    for _ in range(MAX_STEPS):
        if response.is_redirect or response.status_code in (301, 302, 303, 307, 308):
            location = urljoin(response.url, response.headers.get("Location", ""))
            if location.startswith(redirect_uri) or urlsplit(location)[:2] != origin:
                # Back at the app, or off to a host that is not the sandbox: never leave loopback.
                return SignInOutcome(location, pages, response)
            response = session.get(location, allow_redirects=False, timeout=30)
            continue
        content_type = response.headers.get("Content-Type", "")
        if "html" not in content_type:
            pages.append(f"[{response.status_code} {content_type}] {response.text[:2000]}")
            return SignInOutcome(None, pages, response)
        parser = FormParser()
        parser.feed(response.text)
        pages.append(f"[{response.status_code}] " + " ".join(parser.text))
        form = pick_form(parser.forms)
        if form is None:
            return SignInOutcome(None, pages, response)
        action = urljoin(response.url, form.action or response.url)
        data = fill_form(form, person)
        if action.startswith(redirect_uri) or urlsplit(action)[:2] != origin:
            # response_mode=form_post: the page posts the result to the app; that post is the redirect.
            query = "&".join(f"{key}={value}" for key, value in data)
            return SignInOutcome(f"{action}?{query}", pages, response)
        if form.method == "post":
            response = session.post(action, data=data, allow_redirects=False, timeout=30)
        else:
            response = session.get(action, params=data, allow_redirects=False, timeout=30)
    raise AssertionError(f"sign-in did not finish within {MAX_STEPS} steps:\n" + "\n---\n".join(pages))


def pick_form(forms: list[Form]) -> Form | None:
    """The form a person would use: the one with a password box, else the first with a submit button."""
    for form in forms:
        if any(f.type == "password" for f in form.fields):
            return form
    for form in forms:
        if any(f.type == "submit" or f.tag == "button" for f in form.fields):
            return form
    return forms[0] if forms else None


def fill_form(form: Form, person: Person) -> list[tuple[str, str]]:
    """The name/value pairs the person submits: hidden fields as they are, credentials and justification typed
    in, check boxes as the person wants them, and the one button that moves forward (or declines)."""
    data: list[tuple[str, str]] = []
    has_password = any(f.type == "password" for f in form.fields)
    for f in form.fields:
        if not f.name or f.type in ("submit", "image", "reset") or f.tag == "button":
            continue
        if f.type == "password":
            data.append((f.name, person.password))
        elif f.type in ("text", "email") and (USERNAME_WORDS.search(f.name) or has_password):
            data.append((f.name, person.username))
        elif f.tag == "textarea":
            data.append((f.name, person.justification))
        elif f.type == "checkbox":
            if ORGANIZATION_WORDS.search(f.name + " " + f.label):
                if person.consent_for_organization:
                    data.append((f.name, f.value or "on"))
            elif f.checked:
                data.append((f.name, f.value or "on"))
        elif f.type == "radio":
            if f.checked:
                data.append((f.name, f.value))
        else:
            data.append((f.name, f.value))
    button = pick_button(form, person)
    if button is not None and button.name:
        data.append((button.name, button.value))
    return data


def pick_button(form: Form, person: Person) -> FormField | None:
    """The submit button for the person's choice: a forward one (Accept, Sign in, Request approval), or a
    declining one (Cancel) on a consent page the person refuses."""
    buttons = [f for f in form.fields if f.type == "submit" or (f.tag == "button" and f.type != "button")]
    if not buttons:
        return None

    def words(button: FormField) -> str:
        return f"{button.name} {button.value} {button.label}"

    if person.accept_consent:
        forward = [b for b in buttons if ACCEPT_WORDS.search(words(b)) and not DECLINE_WORDS.search(words(b))]
        neutral = [b for b in buttons if not DECLINE_WORDS.search(words(b))]
        return (forward or neutral or buttons)[0]
    declining = [b for b in buttons if DECLINE_WORDS.search(words(b))]
    return (declining or buttons)[-1]


def auth_response(outcome: SignInOutcome) -> dict[str, Any]:
    """The redirect's query as MSAL's `auth_response`, failing with the transcript when there was none."""
    assert outcome.redirect, f"the sign-in never redirected back to the app:\n{outcome.transcript()}"
    return outcome.query
