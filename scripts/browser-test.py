#!/usr/bin/env python3
"""Browser test: the built-in web client in real headless Chromium, against the built parley-server binary.

Usage: scripts/browser-test.py PATH/TO/parley-server [SCREENSHOT_DIR]
Two browser sessions (a desktop-sized and a phone-sized window) and a plain TCP IRC client chat in #lobby; a message
with HTML in it must show as text and run nothing; links are http(s) only, with rel="noopener noreferrer"; a DM shows
up as an unread conversation; after the server restarts, the browser reconnects by itself and chats again.
Screenshots of the chat view go to SCREENSHOT_DIR (printed at the end).
"""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, what, timeout=15.0):
    deadline = time.time() + timeout
    last_error = None
    while time.time() < deadline:
        try:
            if predicate():
                return
        except Exception as error:  # the page may be between renders
            last_error = error
        time.sleep(0.05)
    raise SystemExit(f"browser-test: timed out waiting for {what}" + (f" (last error: {last_error})" if last_error else ""))


class TCPClient:
    """A plain IRC client on a socket: what irssi or a bot would be."""

    def __init__(self, port, nick, caps=()):
        self.lines = []
        self.sock = socket.create_connection(("127.0.0.1", port))
        if caps:
            self.send("CAP REQ :" + " ".join(caps))
            self.send("CAP END")
        self.send(f"NICK {nick}")
        self.send(f"USER {nick} 0 * :TCP client")
        threading.Thread(target=self.read, daemon=True).start()

    def send(self, line):
        self.sock.sendall((line + "\r\n").encode())

    def read(self):
        buffer = b""
        while True:
            try:
                data = self.sock.recv(4096)
            except OSError:
                return
            if not data:
                return
            buffer += data
            while b"\r\n" in buffer:
                line, buffer = buffer.split(b"\r\n", 1)
                text = line.decode("utf-8", "replace")
                self.lines.append(text)
                if text.startswith("PING"):
                    self.send("PONG" + text[4:])

    def saw(self, fragment):
        return any(fragment in line for line in self.lines)


def start_server(binary, port, data_dir, extra=()):
    server = subprocess.Popen(
        [binary, "127.0.0.1", "--port", str(port), "--flood-control", "off", "--data-dir", data_dir, *extra],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    banner = server.stdout.readline()
    if "listening" not in banner:
        raise SystemExit(f"browser-test: server did not start: {banner!r}")
    return server


def browser(width, height):
    options = webdriver.ChromeOptions()
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     f"--window-size={width},{height}"]:
        options.add_argument(argument)
    options.binary_location = "/usr/bin/chromium"
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def messages_text(driver):
    return driver.find_element(By.ID, "messages").text


def log_in(driver, port, nick):
    driver.get(f"http://127.0.0.1:{port}/")
    driver.find_element(By.ID, "nick").send_keys(nick)
    driver.find_element(By.ID, "connect-button").click()
    wait_for(lambda: driver.find_element(By.ID, "chat-screen").is_displayed(), f"{nick}'s chat screen")
    wait_for(lambda: "#lobby" in driver.find_element(By.ID, "buffer-name").text, f"{nick} in #lobby")


def try_log_in(driver, port, nick, password="", server_password=""):
    """Fills the form and connects; returns once the chat screen shows or the form says why not (its text)."""
    driver.get(f"http://127.0.0.1:{port}/")
    # The form remembers the last nick in this browser: replace what is there.
    for field, value in (("nick", nick), ("password", password), ("server-password", server_password)):
        element = driver.find_element(By.ID, field)
        element.clear()
        element.send_keys(value)
    driver.find_element(By.ID, "connect-button").click()
    wait_for(lambda: driver.find_element(By.ID, "chat-screen").is_displayed()
             or driver.find_element(By.ID, "connect-error").text, f"{nick}'s connect outcome")
    return driver.find_element(By.ID, "connect-error").text


def say(driver, text):
    field = driver.find_element(By.ID, "input")
    field.send_keys(text)
    field.send_keys(Keys.ENTER)


def open_buffer(driver, name):
    for item in driver.find_elements(By.CSS_SELECTOR, "#buffer-list .buffer-name"):
        if item.text == name:
            item.click()
            return
    raise SystemExit(f"browser-test: no buffer {name!r} in the list")


def member(driver, nick):
    """The member list's entry for `nick` (its text is the prefix and the nick)."""
    for item in driver.find_elements(By.CSS_SELECTOR, "#member-list li"):
        if item.get_attribute("textContent").lstrip("@+") == nick:
            return item
    return None


def no_alert(driver):
    try:
        driver.switch_to.alert
    except NoAlertPresentException:
        return True
    return False


def main():
    binary = sys.argv[1]
    shots = sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp(prefix="parley-screenshots-")
    os.makedirs(shots, exist_ok=True)
    port = free_port()
    data_dir = tempfile.mkdtemp(prefix="parley-browser-")
    server = start_server(binary, port, data_dir)
    alice = bob = None
    try:
        tcp = TCPClient(port, "terminal")
        wait_for(lambda: tcp.saw(" 001 "), "the TCP client's welcome")
        tcp.send("JOIN #lobby")
        tcp.send("PRIVMSG #lobby :an earlier line, before anyone opened a browser")
        tcp.send("AWAY :reading the logs")
        wait_for(lambda: tcp.saw(" 366 ") and tcp.saw(" 306 "), "the TCP client in #lobby, away")

        alice = browser(1280, 800)
        log_in(alice, port, "alice")
        # History: the line sent before alice arrived is loaded with CHATHISTORY.
        wait_for(lambda: "an earlier line" in messages_text(alice), "history on join")
        # Away users are dimmed in the member list: known on joining (WHO), and changes arrive (away-notify).
        wait_for(lambda: "away" in member(alice, "terminal").get_attribute("class").split(), "terminal shown away")
        assert "away" not in member(alice, "alice").get_attribute("class").split()
        assert "End of WHO list" not in messages_text(alice), "the WHO asked for the away states printed its replies"
        tcp.send("AWAY :back soon")
        wait_for(lambda: member(alice, "terminal").get_attribute("title") == "away: back soon", "the away reason")
        tcp.send("AWAY")
        wait_for(lambda: "away" not in member(alice, "terminal").get_attribute("class").split(), "terminal back")
        # A first connect is not a reconnect (the server tab used to say "Reconnected.").
        network = alice.find_element(By.ID, "network-name").text
        if network in [b.text for b in alice.find_elements(By.CSS_SELECTOR, "#buffer-list .buffer-name")]:
            open_buffer(alice, network)
            wait_for(lambda: alice.find_element(By.ID, "buffer-name").text == network, "the server tab")
            assert "Reconnected." not in messages_text(alice), "the first connect said Reconnected."
            open_buffer(alice, "#lobby")
            wait_for(lambda: "#lobby" in alice.find_element(By.ID, "buffer-name").text, "back in #lobby")

        # What stops a first connect is said on the form, where the user is looking: a taken nick, a failed login.
        owner = TCPClient(port, "owner")
        wait_for(lambda: owner.saw(" 001 "), "the account owner's welcome")
        owner.send("PRIVMSG NickServ :REGISTER correct-horse-battery")
        wait_for(lambda: owner.saw("registered"), "the owner's account")
        owner.send("QUIT")
        wait_for(lambda: owner.saw("ERROR"), "the owner gone")
        carol = browser(1280, 800)
        try:
            said = try_log_in(carol, port, "alice")
            assert "taken" in said and not carol.find_element(By.ID, "chat-screen").is_displayed(), said
            said = try_log_in(carol, port, "owner", password="wrong-password")
            assert "Login failed" in said and not carol.find_element(By.ID, "chat-screen").is_displayed(), said
            carol.save_screenshot(os.path.join(shots, "desktop-login-failed.png"))
            # Logged in, the page and the owner's other device share read markers (draft/read-marker).
            said = try_log_in(carol, port, "owner", password="correct-horse-battery")
            wait_for(lambda: carol.find_element(By.ID, "chat-screen").is_displayed(), "the owner's chat screen")
            wait_for(lambda: "#lobby" in carol.find_element(By.ID, "buffer-name").text, "the owner in #lobby")
            phone = TCPClient(port, "ownerphone", caps=("draft/read-marker",))
            wait_for(lambda: phone.saw(" 001 "), "the owner's phone welcome")
            phone.send("PRIVMSG NickServ :IDENTIFY owner correct-horse-battery")
            wait_for(lambda: phone.saw(" 900 "), "the phone logged in")
            tcp.send("PRIVMSG #lobby :read on the page")
            wait_for(lambda: "read on the page" in messages_text(carol), "the line on the owner's page")
            wait_for(lambda: phone.saw("MARKREAD #lobby timestamp="), "the page's read marker on the phone")
            open_buffer(carol, carol.find_element(By.ID, "network-name").text)
            tcp.send("PRIVMSG #lobby :unread on the page")
            wait_for(lambda: carol.title.startswith("(1) "), "the unread count in the tab title")
            phone.send("MARKREAD #lobby timestamp=2099-01-01T00:00:00.000Z")
            wait_for(lambda: not carol.title.startswith("("), "the count gone once read on the phone")
            badges = [b.text for b in carol.find_elements(By.CSS_SELECTOR, "#buffer-list .unread")]
            assert badges == [], badges
            # A conversation survives a reload: logged in again, the page lists it (CHATHISTORY TARGETS).
            tcp.send("PRIVMSG owner :a private word for the owner")
            names = lambda: [n.text for n in carol.find_elements(By.CSS_SELECTOR, "#buffer-list .buffer-name")]
            wait_for(lambda: "terminal" in names(), "the conversation in the owner's sidebar")
            try_log_in(carol, port, "owner", password="correct-horse-battery")
            wait_for(lambda: carol.find_element(By.ID, "chat-screen").is_displayed(), "the owner back after a reload")
            wait_for(lambda: "terminal" in names(), "the conversation listed again after the reload")
            open_buffer(carol, "terminal")
            wait_for(lambda: "a private word for the owner" in messages_text(carol), "the conversation's history")
        finally:
            carol.quit()

        bob = browser(390, 844)
        log_in(bob, port, "bob")

        say(alice, "hello from alice")
        wait_for(lambda: "hello from alice" in messages_text(bob), "bob to see alice's line")
        wait_for(lambda: tcp.saw("PRIVMSG #lobby :hello from alice"), "the TCP client to see alice's line")

        tcp.send("PRIVMSG #lobby :hi from the terminal https://example.org/page and javascript:alert(3)")
        wait_for(lambda: "hi from the terminal" in messages_text(alice), "alice to see the terminal's line")
        links = alice.find_elements(By.CSS_SELECTOR, "#messages a")
        assert len(links) == 1, f"exactly one link expected, got {[l.get_attribute('href') for l in links]}"
        assert links[0].get_attribute("href") == "https://example.org/page"
        assert links[0].get_attribute("rel") == "noopener noreferrer"

        hostile = "<script>alert(1)</script><img src=x onerror=alert(2)> <b>bold?</b>"
        say(bob, hostile)
        wait_for(lambda: hostile in messages_text(alice), "alice to see the HTML as text")
        wait_for(lambda: tcp.saw("PRIVMSG #lobby :" + hostile), "the TCP client to get the text unchanged")
        for driver in (alice, bob):
            assert not driver.find_elements(By.CSS_SELECTOR, "#messages script, #messages img, #messages b"), \
                "message text became HTML"
            assert no_alert(driver), "a script ran"
            assert driver.execute_script("return document.querySelectorAll('script').length") == 1

        # Members: all three are listed in #lobby.
        members = alice.find_element(By.ID, "member-list").text
        for nick in ("alice", "bob", "terminal"):
            assert nick in members, f"{nick} missing from the member list: {members!r}"

        # A DM from the terminal shows as an unread conversation in bob's list.
        tcp.send("PRIVMSG bob :psst, bob")
        bob.find_element(By.ID, "menu-button").click()
        wait_for(lambda: "terminal" in bob.find_element(By.ID, "buffer-list").text, "bob's conversation with terminal")
        unread = bob.find_element(By.CSS_SELECTOR, "#buffer-list .unread").text
        assert unread == "1", f"unread count {unread!r}"
        bob.save_screenshot(os.path.join(shots, "phone-sidebar.png"))
        # Choosing a buffer closes the sidebar on a phone.
        lobby = [b for b in bob.find_elements(By.CSS_SELECTOR, "#buffer-list .buffer-name") if b.text == "#lobby"]
        lobby[0].click()
        wait_for(lambda: not bob.find_element(By.ID, "sidebar").is_displayed(), "bob's sidebar to close")

        # Typing: a notice from an IRC client shows under alice's messages and goes when done; alice typing is sent
        # as +typing=active, and emptying the line as done.
        typist = TCPClient(port, "typist", caps=("message-tags",))
        typist.send("JOIN #lobby")
        wait_for(lambda: typist.saw(" 366 "), "the typist in #lobby")
        typing_line = lambda: alice.find_element(By.ID, "typing").text
        typist.send("@+typing=active TAGMSG #lobby")
        wait_for(lambda: typing_line() == "typist is typing…", "alice to see the typist typing")
        alice.save_screenshot(os.path.join(shots, "desktop-typing.png"))
        typist.send("@+typing=done TAGMSG #lobby")
        wait_for(lambda: typing_line() == "", "the typing line to go when done")
        typist.send("@+typing=active TAGMSG #lobby")
        wait_for(lambda: typing_line() == "typist is typing…", "the typist typing again")
        typist.send("PRIVMSG #lobby :typed it")
        wait_for(lambda: typing_line() == "" and "typed it" in messages_text(alice), "a message to end the typing")
        field = alice.find_element(By.ID, "input")
        field.send_keys("hel")
        notice = lambda value: any(
            line.startswith("@") and f"+typing={value}" in line.split(" ")[0] and " :alice!" in line
            and line.endswith(" TAGMSG #lobby") for line in typist.lines)
        wait_for(lambda: notice("active"), "alice's active notice at the typist")
        field.send_keys(Keys.BACKSPACE * 3)
        wait_for(lambda: notice("done"), "alice's done notice at the typist")
        assert not any("+typing" in line for line in tcp.lines), "the client without message-tags got a TAGMSG"

        # IRC formatting from an IRC client is styled with classes and colours, never shown as control characters.
        tcp.send("PRIVMSG #lobby :\x02bold\x02 \x0304red\x03 \x1ditalic\x1d \x0300,04white on red\x0f plain")
        wait_for(lambda: "bold red italic white on red plain" in messages_text(alice), "the formatted line")
        assert not any(c in messages_text(alice) for c in "\x02\x03\x1d\x0f"), "control characters shown"
        style = lambda text: alice.execute_script(
            "const span = [...document.querySelectorAll('#messages .body span')].find(s => s.textContent === arguments[0]);"
            "if (!span) return null; const c = getComputedStyle(span);"
            "return [span.className, c.fontWeight, c.fontStyle, c.color, c.backgroundColor];", text)
        assert style("bold")[0] == "irc-bold" and int(style("bold")[1]) >= 700, style("bold")
        assert style("red")[3] == "rgb(224, 0, 0)", style("red")  # the light theme's legible red
        assert style("italic")[2] == "italic", style("italic")
        assert style("white on red")[3:] == ["rgb(255, 255, 255)", "rgb(255, 0, 0)"], style("white on red")
        alice.save_screenshot(os.path.join(shots, "desktop-formatting.png"))
        say(alice, "/formatting off")
        wait_for(lambda: style("red") is None, "formatting stripped")
        say(alice, "/formatting on")
        wait_for(lambda: style("red") is not None, "formatting shown again")

        # A message over the line limit goes out in pieces cut at spaces, and the box is emptied only once it went.
        from_alice = lambda: [line.split(" :", 1)[1] for line in tcp.lines
                              if line.startswith(":alice!") and " PRIVMSG #lobby :" in line]
        before = len(from_alice())
        long_text = " ".join(f"word{index}" for index in range(300))
        field = alice.find_element(By.ID, "input")
        alice.execute_script("arguments[0].value = arguments[1];", field, long_text)
        field.send_keys(Keys.ENTER)
        wait_for(lambda: "".join(from_alice()[before:]) == long_text, "the long message in pieces")
        pieces = from_alice()[before:]
        assert len(pieces) >= 5 and all(len(piece.encode()) <= 400 for piece in pieces), [len(p) for p in pieces]
        assert field.get_attribute("value") == "", "the box kept a sent message"
        assert "too long" not in messages_text(alice).lower()
        # With draft/multiline the long message is one message of concatenated pieces: one line, the words whole.
        whole = lambda driver: driver.execute_script(
            "return [...document.querySelectorAll('#messages .line .body')].map(b => b.textContent)"
            ".filter(t => t.includes('word299'))")
        wait_for(lambda: len(whole(bob)) == 1 and long_text in whole(bob)[0], "the long message as one on bob's page")
        alice.save_screenshot(os.path.join(shots, "desktop-long-message.png"))

        # Shift+Enter starts a new line; a snippet of several lines goes out as one message per line.
        before = len(from_alice())
        field.send_keys("first line", Keys.SHIFT, Keys.ENTER, Keys.NULL, "second line")
        assert field.get_attribute("value") == "first line\nsecond line", repr(field.get_attribute("value"))
        field.send_keys(Keys.ENTER)
        wait_for(lambda: from_alice()[before:] == ["first line", "second line"], "two typed lines")
        before = len(from_alice())
        alice.execute_script("arguments[0].value = arguments[1];", field, "def f():\n    return 1\n\n/not a command")
        field.send_keys(Keys.ENTER)
        wait_for(lambda: from_alice()[before:] == ["def f():", "    return 1", "/not a command"], "the pasted snippet")
        wait_for(lambda: "    return 1" in messages_text(bob), "bob to see the snippet, indented")
        # With draft/multiline the snippet is one message: one line on bob's page, its line breaks and blank line
        # kept (the TCP client above, without the capability, got it as separate lines).
        snippet = lambda: bob.execute_script(
            "return [...document.querySelectorAll('#messages .line .body')].map(b => b.textContent)"
            ".filter(t => t.includes('def f():'))")
        wait_for(lambda: any("def f():\n    return 1\n\n/not a command" in text for text in snippet()),
                 "the snippet as one message on bob's page")
        assert len(snippet()) == 1, snippet()
        alice.execute_script("const m = document.getElementById('messages'); m.scrollTop = m.scrollHeight;")
        alice.save_screenshot(os.path.join(shots, "desktop-multiline.png"))

        # Joining from the sidebar's box opens the channel; a conversation has no member list and no empty column.
        join_box = alice.find_element(By.ID, "join-input")
        join_box.send_keys("#dev", Keys.ENTER)
        wait_for(lambda: alice.find_element(By.ID, "buffer-name").text == "#dev", "alice switched to #dev")
        join_box.send_keys("terminal", Keys.ENTER)
        wait_for(lambda: alice.find_element(By.ID, "buffer-name").text == "terminal", "the conversation")
        columns = lambda: alice.execute_script(
            "return getComputedStyle(document.querySelector('.chat')).gridTemplateColumns.split(' ').length")
        wait_for(lambda: columns() == 2, "no empty member column in a conversation")
        open_buffer(alice, "#lobby")
        wait_for(lambda: alice.find_element(By.ID, "buffer-name").text == "#lobby" and columns() == 3, "#lobby again")

        # The channel browser: /list shows each channel with its users and topic, and joins with a click.
        tcp.send("JOIN #quiet")
        tcp.send("TOPIC #quiet :a quiet place")
        wait_for(lambda: tcp.saw("TOPIC #quiet"), "#quiet with a topic")
        say(alice, "/list")
        wait_for(lambda: alice.find_element(By.ID, "buffer-name").text == "Channels", "the channel browser")
        rows = lambda: {r.find_element(By.CSS_SELECTOR, ".channel-name").text: r.text
                        for r in alice.find_elements(By.CSS_SELECTOR, "#messages .line.listing")}
        wait_for(lambda: "#quiet" in rows() and "#lobby" in rows(), "channels listed")
        assert "a quiet place" in rows()["#quiet"] and "1 user" in rows()["#quiet"], rows()
        assert rows()["#lobby"].endswith("Open") and rows()["#quiet"].endswith("Join"), rows()
        alice.save_screenshot(os.path.join(shots, "desktop-channel-browser.png"))
        [b for b in alice.find_elements(By.CSS_SELECTOR, ".join-channel") if b.get_attribute("data-channel") == "#quiet"][0].click()
        wait_for(lambda: alice.find_element(By.ID, "buffer-name").text == "#quiet", "joined #quiet from the browser")

        # /names, and what a click on a member offers: whois for anyone, op actions for a channel's operators.
        say(alice, "/names")
        wait_for(lambda: "In #quiet (2): @terminal, alice" in messages_text(alice), "/names printed")
        member(alice, "terminal").click()
        wait_for(lambda: alice.find_elements(By.CSS_SELECTOR, "#member-menu button"), "the member menu")
        labels = [b.text for b in alice.find_elements(By.CSS_SELECTOR, "#member-menu button")]
        assert labels == ["Message", "Whois"], labels  # alice is no operator in #quiet
        alice.find_elements(By.CSS_SELECTOR, "#member-menu button")[1].click()
        wait_for(lambda: "terminal is " in messages_text(alice), "whois from the member menu")
        say(alice, "/join #alices")
        wait_for(lambda: alice.find_element(By.ID, "buffer-name").text == "#alices", "alice's own channel")
        tcp.send("JOIN #alices")
        wait_for(lambda: member(alice, "terminal") is not None, "terminal in #alices")
        member(alice, "terminal").click()
        wait_for(lambda: alice.find_elements(By.CSS_SELECTOR, "#member-menu button"), "the operator's member menu")
        labels = [b.text for b in alice.find_elements(By.CSS_SELECTOR, "#member-menu button")]
        assert labels == ["Message", "Whois", "Give op", "Give voice", "Kick"], labels
        alice.save_screenshot(os.path.join(shots, "desktop-member-menu.png"))
        alice.find_elements(By.CSS_SELECTOR, "#member-menu button")[3].click()
        wait_for(lambda: tcp.saw("MODE #alices +v terminal"), "voice given from the menu")
        say(alice, "/kick terminal out you go")
        wait_for(lambda: tcp.saw("KICK #alices terminal :out you go"), "/kick")
        say(alice, "/ban terminal")
        wait_for(lambda: "terminal!*@*" in messages_text(alice), "the ban shown in #alices")
        tcp.send("JOIN #alices")
        wait_for(lambda: tcp.saw(" 474 "), "terminal banned from #alices")
        open_buffer(alice, "#lobby")
        wait_for(lambda: alice.find_element(By.ID, "buffer-name").text == "#lobby", "#lobby again")

        # Days: lines start under "Today"; other days are named, with the year when it is not this one.
        days = [d.text for d in alice.find_elements(By.CSS_SELECTOR, "#messages .day")]
        assert days == ["Today"], days
        names = alice.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "import('./view.js').then((m) => { const now = new Date(2026, 11, 7, 12);"
            "done([m.dayName(new Date(2026, 11, 6, 23), now), m.dayName(new Date(2025, 0, 2, 9), now),"
            "[...new Set(Array.from({ length: 300 }, (_, i) => m.nickHue('nick' + i)))].sort((a, b) => a - b)]); });")
        assert names[0] == "Yesterday" and "2025" in names[1], names
        # Nick colours: ten hues, all used, none in the band that reads as brown.
        assert len(names[2]) == 10 and not any(20 <= hue <= 60 for hue in names[2]), names[2]

        # The phone's drawer closes with Esc and with a tap outside it, not only by picking a channel.
        drawer = lambda: bob.find_element(By.ID, "sidebar").is_displayed()
        bob.find_element(By.ID, "menu-button").click()
        wait_for(drawer, "bob's drawer open")
        bob.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)
        wait_for(lambda: not drawer(), "Esc to close the drawer")
        bob.find_element(By.ID, "menu-button").click()
        wait_for(drawer, "bob's drawer open again")
        bob.save_screenshot(os.path.join(shots, "phone-drawer.png"))
        bob.execute_script("document.getElementById('messages').click()")
        wait_for(lambda: not drawer(), "a tap outside to close the drawer")

        say(alice, "/me waves")
        wait_for(lambda: "* alice waves" in messages_text(bob), "the action on bob's screen")
        for driver in (alice, bob):  # guests keep no read markers: the page must not ask and be refused
            assert "read markers" not in messages_text(driver), messages_text(driver)[-300:]
        alice.save_screenshot(os.path.join(shots, "desktop-chat.png"))
        bob.save_screenshot(os.path.join(shots, "phone-chat.png"))

        # A direct https image link gets a button; the image is fetched only when it is clicked, without a referrer.
        tcp.send("PRIVMSG #lobby :a cat https://images.example/cat.png and http://plain.example/dog.png")
        wait_for(lambda: "a cat" in messages_text(alice), "the image line")
        buttons = alice.find_elements(By.CSS_SELECTOR, "#messages .show-image")
        assert len(buttons) == 1, "one button: only the https link"
        assert not alice.find_elements(By.CSS_SELECTOR, "#messages img"), "an image loaded before it was asked for"
        buttons[0].click()
        image = alice.find_element(By.CSS_SELECTOR, "#messages img.inline-image")
        assert image.get_attribute("src") == "https://images.example/cat.png"
        assert image.get_attribute("referrerpolicy") == "no-referrer"

        # Replies and reactions (IRCv3 +draft/reply, +draft/react): the page quotes the line answered, counts reactions.
        open_buffer(alice, "#lobby")
        wait_for(lambda: alice.find_element(By.ID, "buffer-name").text == "#lobby", "alice in #lobby")
        def on_target_line(driver, button):
            # The log is drawn again when a line arrives: find the line anew until it holds still for the click.
            for _ in range(50):
                try:
                    line = [l for l in driver.find_elements(By.CSS_SELECTOR, "#messages .line")
                            if "hi from the terminal" in l.text][0]
                    ActionChains(driver).move_to_element(line).perform()
                    line.find_element(By.CSS_SELECTOR, button).click()
                    return line.get_attribute("data-id")
                except (StaleElementReferenceException, IndexError):
                    time.sleep(0.1)
            raise AssertionError(f"could not click {button} on the terminal's line")
        parent_id = on_target_line(alice, ".line-reply")
        wait_for(lambda: alice.find_element(By.ID, "reply-bar").is_displayed(), "the reply bar")
        say(alice, "replying to that")
        wait_for(lambda: any(l.startswith("@") and f"+draft/reply={parent_id}" in l.split(" ")[0]
                             and l.endswith("PRIVMSG #lobby :replying to that") for l in typist.lines), "the reply tag")
        assert not alice.find_element(By.ID, "reply-bar").is_displayed(), "the reply bar stayed"
        quoted = lambda: [q.text for q in bob.find_elements(By.CSS_SELECTOR, "#messages .reply-quote")]
        wait_for(lambda: any("terminal" in q and "hi from the terminal" in q for q in quoted()), "bob sees the quote")
        on_target_line(alice, ".line-react")
        wait_for(lambda: alice.find_elements(By.CSS_SELECTOR, "#member-menu button"), "the reaction menu")
        alice.find_elements(By.CSS_SELECTOR, "#member-menu button")[0].click()
        wait_for(lambda: any("+draft/react=" in l.split(" ")[0] and f"+draft/reply={parent_id}" in l.split(" ")[0]
                             and l.endswith("TAGMSG #lobby") for l in typist.lines), "the reaction's TAGMSG")
        def counts(driver):
            try:
                return [r.text for l in driver.find_elements(By.CSS_SELECTOR, "#messages .line")
                        if "hi from the terminal" in l.text for r in l.find_elements(By.CSS_SELECTOR, ".reaction")]
            except StaleElementReferenceException:
                return None  # drawn again meanwhile: wait_for asks again
        wait_for(lambda: counts(bob) == ["👍 1"], "bob sees one 👍")
        typist.send(f"@+draft/react=👍;+draft/reply={parent_id} TAGMSG #lobby")
        wait_for(lambda: counts(alice) == ["👍 2"], "two 👍 on alice's page")
        bob.save_screenshot(os.path.join(shots, "phone-reply-reaction.png"))
        alice.save_screenshot(os.path.join(shots, "desktop-reply-reaction.png"))

        # Deleting one's own line (draft/message-redaction): the page asks the server, and both pages show it deleted.
        say(alice, "a line to take back")
        wait_for(lambda: "a line to take back" in messages_text(bob), "bob sees the line")
        for _ in range(50):
            try:
                line = [l for l in alice.find_elements(By.CSS_SELECTOR, "#messages .line")
                        if "a line to take back" in l.text][0]
                ActionChains(alice).move_to_element(line).perform()
                line.find_element(By.CSS_SELECTOR, ".line-delete").click()
                break
            except (StaleElementReferenceException, IndexError):
                time.sleep(0.1)
        else:
            raise AssertionError("could not click Delete on alice's own line")
        for driver, who in ((alice, "alice"), (bob, "bob")):
            wait_for(lambda: "a line to take back" not in messages_text(driver)
                     and "message deleted" in messages_text(driver), f"{who}'s page shows the line deleted")
        typist.send("PING after-redact")
        wait_for(lambda: any("after-redact" in l for l in typist.lines), "the terminal's PONG")
        assert not any(" REDACT " in l for l in typist.lines), "REDACT reached a client without the capability"
        alice.save_screenshot(os.path.join(shots, "desktop-deleted.png"))

        # Accessibility, from Chromium's own accessibility tree: the messages are a live log, and every control
        # (buttons, text boxes) has a name a screen reader can say.
        tree = alice.execute_cdp_cmd("Accessibility.getFullAXTree", {})["nodes"]
        role = lambda node: (node.get("role") or {}).get("value")
        named = lambda node: ((node.get("name") or {}).get("value") or "").strip()
        assert any(role(n) == "log" and named(n) == "Messages" for n in tree), "no message log in the tree"
        unnamed = [role(n) for n in tree if not n.get("ignored") and role(n) in ("button", "textbox", "searchbox")
                   and not named(n)]
        assert not unnamed, f"controls without a name: {unnamed}"

        # Keys: Tab completes a nick (and again cycles), Up on an empty line brings back the last one sent,
        # Alt+Down/Up switch conversations, Ctrl+K goes to the switcher box, Esc marks everything read.
        field = alice.find_element(By.ID, "input")
        field.send_keys("ter", Keys.TAB)
        assert field.get_attribute("value") == "terminal: ", repr(field.get_attribute("value"))
        field.clear()
        field.send_keys(Keys.ARROW_UP)
        assert field.get_attribute("value") == "a line to take back", repr(field.get_attribute("value"))
        field.clear()
        names = lambda: [b.text for b in alice.find_elements(By.CSS_SELECTOR, "#buffer-list .buffer-name")]
        here = lambda: alice.find_element(By.ID, "buffer-name").text
        position = names().index(here())
        field.send_keys(Keys.ALT, Keys.ARROW_DOWN, Keys.NULL)
        wait_for(lambda: here() == names()[(position + 1) % len(names())], "Alt+Down to the next conversation")
        alice.find_element(By.ID, "input").send_keys(Keys.ALT, Keys.ARROW_UP, Keys.NULL)
        wait_for(lambda: here() == "#lobby", "Alt+Up back")
        assert alice.find_element(By.ID, "input").get_attribute("value") == "", "Alt+Up recalled a line"
        alice.find_element(By.ID, "input").send_keys(Keys.CONTROL, "k", Keys.NULL)
        assert alice.switch_to.active_element.get_attribute("id") == "join-input"
        tcp.send("JOIN #dev")
        tcp.send("PRIVMSG #dev :news in dev")
        unread = lambda: [u.text for u in alice.find_elements(By.CSS_SELECTOR, "#buffer-list .unread")]
        wait_for(lambda: unread(), "an unread count for #dev")
        alice.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)
        wait_for(lambda: not unread(), "Esc to mark everything read")

        # A search hit opens its conversation at that point.
        say(alice, "/search earlier line")
        wait_for(lambda: here().startswith("Search"), "the search results")
        hit = alice.find_element(By.CSS_SELECTOR, "#messages .line[data-jump-place]")
        hit.click()
        wait_for(lambda: here() == "#lobby" and alice.find_elements(By.CSS_SELECTOR, "#messages .line.focused"),
                 "the hit shown in #lobby")
        focused = alice.find_element(By.CSS_SELECTOR, "#messages .line.focused").text
        assert "an earlier line" in focused, focused
        alice.save_screenshot(os.path.join(shots, "desktop-search-jump.png"))

        # Restart the server: the page says it is reconnecting, then chats again.
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
        wait_for(lambda: "reconnecting" in alice.find_element(By.ID, "status-banner").text, "the reconnecting banner")
        alice.save_screenshot(os.path.join(shots, "desktop-reconnecting.png"))
        # Typed while the server is away: Enter keeps the text in the box and says why, nothing is lost.
        say(alice, "typed while the server was down")
        wait_for(lambda: "your message is kept in the box" in messages_text(alice), "the not-connected notice")
        kept = alice.find_element(By.ID, "input").get_attribute("value")
        assert kept == "typed while the server was down", kept
        alice.find_element(By.ID, "input").clear()
        server = start_server(binary, port, data_dir)
        # Said while alice may still be away: she must see it, live or from history when she rejoins.
        tcp2 = TCPClient(port, "terminal2")
        tcp2.send("JOIN #lobby")
        tcp2.send("PRIVMSG #lobby :said right after the restart")
        wait_for(lambda: tcp2.saw(" 366 "), "the second TCP client in #lobby")
        wait_for(lambda: not alice.find_element(By.ID, "status-banner").is_displayed(), "alice to reconnect", 40)
        wait_for(lambda: "said right after the restart" in messages_text(alice), "the line from while alice was away", 20)
        wait_for(lambda: "alice" in alice.find_element(By.ID, "member-list").text, "alice back in #lobby", 20)
        say(alice, "back after the restart")
        wait_for(lambda: tcp2.saw("PRIVMSG #lobby :back after the restart"), "the line after reconnecting")
        # A real reconnect is said, in the server tab.
        open_buffer(alice, alice.find_element(By.ID, "network-name").text)
        wait_for(lambda: "Reconnected." in messages_text(alice), "Reconnected. in the server tab")
        # A channel renamed (draft/channel-rename): the same tab, its lines kept, under the new name.
        say(alice, "/join #before")
        wait_for(lambda: alice.find_element(By.ID, "buffer-name").text == "#before", "alice in #before")
        say(alice, "said before the rename")
        wait_for(lambda: "said before the rename" in messages_text(alice), "the line in #before")
        say(alice, "/raw RENAME #before #after :a better name")
        tabs = lambda: [b.text for b in alice.find_elements(By.CSS_SELECTOR, "#buffer-list .buffer-name")]
        wait_for(lambda: "#after" in tabs() and "#before" not in tabs(), "the tab renamed")
        wait_for(lambda: alice.find_element(By.ID, "buffer-name").text == "#after"
                 and "said before the rename" in messages_text(alice)
                 and "renamed #before to #after (a better name)" in messages_text(alice), "the renamed tab, its lines")
        # Avatars and display names (draft/metadata-3): until a picture is set a line shows the sender's initial in
        # their colour; a display name replaces the nick on their lines; an https avatar is shown as a picture.
        last = lambda selector, script: alice.execute_script(
            f"const n = [...document.querySelectorAll('#messages .line .body {selector}')].pop(); return n ? {script} : null")
        wait_for(lambda: last(".avatar.placeholder", "n.dataset.initial") == "A", "the avatar placeholder")
        alice.save_screenshot(os.path.join(shots, "desktop-avatar-placeholder.png"))
        say(alice, "/displayname Alice Liddell")
        say(alice, "/avatar https://example.com/alice.png")
        say(alice, "with a name and a face")
        wait_for(lambda: "with a name and a face" in messages_text(alice)
                 and last(".nick", "n.textContent") == "Alice Liddell" and last(".nick", "n.title") == "alice",
                 "the display name on alice's line")
        wait_for(lambda: last("img.avatar", "n.src") == "https://example.com/alice.png", "the avatar picture")
        # A server with a connection password: the form says so, and its "Server password" field gets in.
        locked_port = free_port()
        locked = start_server(binary, locked_port, tempfile.mkdtemp(prefix="parley-browser-locked-"),
                              ["--password", "letmein"])
        try:
            dave = browser(1280, 800)
            try:
                said = try_log_in(dave, locked_port, "dave")
                assert "Server password" in said, said
                said = try_log_in(dave, locked_port, "dave", server_password="letmein")
                assert said == "" and dave.find_element(By.ID, "chat-screen").is_displayed(), said
            finally:
                dave.quit()
        finally:
            locked.send_signal(signal.SIGTERM)
            locked.wait(timeout=20)
        print(f"browser-test: ok (screenshots in {shots})")
    finally:
        for driver in (alice, bob):
            if driver:
                driver.quit()
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    main()
