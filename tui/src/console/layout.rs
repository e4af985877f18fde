//! Where each part of the screen goes, computed from the terminal size alone. The view draws into
//! these areas and the update function maps mouse clicks through the same ones, so they agree.

use ratatui::layout::Rect;

use super::keymap::DetailTab;

/// The smallest terminal the console draws into.
pub const MIN_SIZE: (u16, u16) = (80, 24);

/// The screen's areas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub header: Rect,
    /// The VM list, with its border.
    pub list: Rect,
    /// The detail pane, with its border (tab bar on its first inner line).
    pub detail: Rect,
    pub bar: Rect,
    pub status: Rect,
}

impl Areas {
    pub fn new(width: u16, height: u16) -> Areas {
        let body_height = height.saturating_sub(3);
        let list_width = (width * 2 / 5).clamp(30.min(width), 64.min(width));
        Areas {
            header: Rect::new(0, 0, width, 1.min(height)),
            list: Rect::new(0, 1, list_width, body_height),
            detail: Rect::new(list_width, 1, width.saturating_sub(list_width), body_height),
            bar: Rect::new(0, height.saturating_sub(2), width, 1),
            status: Rect::new(0, height.saturating_sub(1), width, 1),
        }
    }

    /// Rows of VMs the list shows at once.
    pub fn list_rows(&self) -> usize {
        usize::from(self.list.height.saturating_sub(2))
    }

    /// The detail pane's content (below the tab bar).
    pub fn detail_content(&self) -> Rect {
        let inner = inner(self.detail);
        Rect::new(
            inner.x,
            inner.y.saturating_add(2),
            inner.width,
            inner.height.saturating_sub(2),
        )
    }

    /// The list line under a click, if the click is on the list's inside.
    pub fn list_line_at(&self, column: u16, row: u16, offset: usize) -> Option<usize> {
        let inside = inner(self.list);
        contains(inside, column, row).then(|| offset + usize::from(row - inside.y))
    }

    /// The tab whose title is under a click on the tab bar (`current` decides the labels).
    pub fn tab_at(&self, column: u16, row: u16, current: DetailTab) -> Option<DetailTab> {
        let inside = inner(self.detail);
        if row != inside.y || column < inside.x {
            return None;
        }
        let mut x = inside.x;
        for (tab, label) in tab_labels(current, inside.width) {
            let width = label.chars().count();
            let end = x.saturating_add(u16::try_from(width).unwrap_or(u16::MAX));
            if (x..end).contains(&column) {
                return Some(tab);
            }
            x = end.saturating_add(TAB_GAP);
        }
        None
    }

    pub fn in_detail(&self, column: u16, row: u16) -> bool {
        contains(self.detail, column, row)
    }

    pub fn in_list(&self, column: u16, row: u16) -> bool {
        contains(self.list, column, row)
    }
}

/// Columns between two tab titles.
pub const TAB_GAP: u16 = 1;

/// The tab bar's titles with their number keys; when they do not all fit in `width`, only the
/// current tab keeps its name and the others show their number.
pub fn tab_labels(current: DetailTab, width: u16) -> Vec<(DetailTab, String)> {
    let full: Vec<(DetailTab, String)> = DetailTab::ALL
        .into_iter()
        .map(|tab| (tab, format!(" {} {} ", tab.index() + 1, tab.title())))
        .collect();
    let total: usize = full
        .iter()
        .map(|(_, label)| label.chars().count() + usize::from(TAB_GAP))
        .sum();
    if total <= usize::from(width) {
        return full;
    }
    full.into_iter()
        .map(|(tab, label)| {
            if tab == current {
                (tab, label)
            } else {
                (tab, format!(" {} ", tab.index() + 1))
            }
        })
        .collect()
}

/// The inside of a bordered block.
pub fn inner(area: Rect) -> Rect {
    Rect::new(
        area.x.saturating_add(1),
        area.y.saturating_add(1),
        area.width.saturating_sub(2),
        area.height.saturating_sub(2),
    )
}

fn contains(area: Rect, column: u16, row: u16) -> bool {
    column >= area.x && column < area.right() && row >= area.y && row < area.bottom()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn areas_tile_the_screen_and_clicks_map_back() {
        let areas = Areas::new(80, 24);
        assert_eq!(areas.list.width + areas.detail.width, 80);
        assert_eq!(areas.list_rows(), 19);
        assert_eq!(areas.list_line_at(3, 2, 10), Some(10));
        assert_eq!(areas.list_line_at(0, 2, 10), None);
        let inside = inner(areas.detail);
        let current = DetailTab::Overview;
        assert_eq!(
            areas.tab_at(inside.x, inside.y, current),
            Some(DetailTab::Overview)
        );
        // At 80 columns the other tabs show only their number: " 1 Overview " then " 2 ".
        let second = inside.x + 12 + TAB_GAP;
        assert_eq!(
            areas.tab_at(second, inside.y, current),
            Some(DetailTab::CloudConfig)
        );
        let wide = Areas::new(160, 48);
        let inside = inner(wide.detail);
        let second = inside.x + 12 + TAB_GAP;
        assert_eq!(
            wide.tab_at(second + 5, inside.y, current),
            Some(DetailTab::CloudConfig)
        );
        assert_eq!(wide.tab_at(inside.x, inside.y + 1, current), None);
    }
}
