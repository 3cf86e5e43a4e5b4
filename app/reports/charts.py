"""Charts as SVG drawn on the server by pygal, shown as images that can carry no script."""
import base64
import xml.etree.ElementTree as ET

import pygal
from markupsafe import Markup, escape
from pygal.style import Style

SVG = "{http://www.w3.org/2000/svg}"
STYLE = Style(background="#ffffff", plot_background="#ffffff", foreground="#1d2330",
              foreground_strong="#1d2330", foreground_subtle="#d5dae3",
              font_family="system-ui, sans-serif", label_font_size=11,
              major_label_font_size=11, legend_font_size=12, value_font_size=11,
              colors=("#23395d", "#6c8ebf", "#b00020", "#2e7d32", "#d9b44a", "#5b2a86"))
SENTIMENT_STYLE = Style(**{**STYLE.__dict__, "colors": ("#2e7d32", "#9aa3b2", "#b00020")})
# js=[]: pygal links no script of its own or a CDN's; the inline config script it still
# writes is removed below. No tooltips, nothing interactive: the chart prints as it shows.
CONFIG = {"js": [], "width": 720, "height": 300, "style": STYLE, "tooltip_fancy_mode": False,
          "show_legend": True, "legend_at_bottom": True, "print_values": False,
          "explicit_size": False, "disable_xml_declaration": False, "margin": 12,
          "no_data_text": ""}


def _svg(chart):
    """Return the chart's SVG document without any script element."""
    tree = chart.render_tree()
    for parent in list(tree.iter()):
        for child in list(parent):
            if child.tag in (f"{SVG}script", "script"):
                parent.remove(child)
    ET.register_namespace("", SVG[1:-1])
    return ET.tostring(tree, encoding="unicode")


def image(chart, alt):
    """Return an <img> whose source is the chart's SVG as a data URL.

    An SVG shown through <img> never runs script nor fetches anything, and the page's CSP
    (img-src 'self' data:) admits it; inline, pygal's own <style> would fall foul of
    style-src 'self'.
    """
    data = base64.b64encode(_svg(chart).encode()).decode()
    return Markup('<img class="chart" src="data:image/svg+xml;base64,{}" alt="{}">').format(
        Markup(data), escape(alt))


def bars(title, labels, series, horizontal=False, stacked=False, style=None):
    """Return a bar chart of `series` [(name, values)] over `labels` as an <img>."""
    kind = pygal.StackedBar if stacked else pygal.HorizontalBar if horizontal else pygal.Bar
    chart = kind(title=None, **{**CONFIG, "style": style or STYLE})
    chart.x_labels = [str(label) for label in labels]
    # A long period's day labels would overlap: show about a dozen.
    chart.x_labels_major_every = max(1, len(labels) // 12) if not horizontal else None
    chart.show_minor_x_labels = horizontal or len(labels) <= 14
    chart.x_label_rotation = 0 if horizontal or len(labels) <= 14 else 30
    for name, points in series:
        chart.add(str(name), list(points))
    return image(chart, title)


def sentiment_chart(title, days, names):
    """Return the sentiment of each day's conversations as stacked bars."""
    return bars(title, [day.strftime("%d.%m") for day, _counts in days],
                [(names[key], [counts[key] for _day, counts in days])
                 for key in ("positive", "neutral", "negative")],
                stacked=True, style=SENTIMENT_STYLE)
